"""What the operations benchmark runs: the inputs (BMAT's plays, the messy ingest file and
a 1M-row table to join) and the five operations, as sluice requests and as the same
question put to DuckDB and pandas (``peers.py``) over the same typed Parquet parts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

INPUTS = ("plays", "messy", "table")
"""The datasets: BMAT's demo file, the ingest benchmark's messy file, the join's table."""

JOIN_ROWS = 1_000_000
JOIN_FIRST_ID = 10_000_000_000  # the messy file's first id
OPERATIONS = ("describe", "filter_select", "sort", "join", "histogram")

FILTER: list[dict[str, Any]] = [
    {"column": "price", "op": ">", "value": 100},
    {"column": "region", "op": "in", "value": ["North", "East", "Islands"]},
]
FILTER_COLUMNS = ["id", "price", "region", "order_date", "comment"]
SORT_BY = ["Song", "Date"]
HISTOGRAM_COLUMN, HISTOGRAM_BINS = "price", 50


def write_join_table(path: Path) -> None:
    """1M rows of (id, customer, weight): every second id of the messy file's first 2M,
    so that half of those rows find a partner (vectorised: no Python per row)."""
    # Here: the process that runs ours (the local system's own) must not hold Arrow for it.
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    j = np.arange(JOIN_ROWS, dtype=np.int64)
    customers = pc.binary_join_element_wise("C", pc.cast(pa.array(j % 5000), pa.string()), "")
    table = pa.table(
        {
            "id": pa.array(JOIN_FIRST_ID + 2 * j),
            "customer": customers,
            "weight": pa.array(np.round((j % 1000) * 0.25 + 1.5, 2)),
        }
    )
    pcsv.write_csv(table, path)


def request(operation: str, ids: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """Sluice's request for ``operation``: (name, input_data), the datasets by input."""

    def ref(name: str) -> dict[str, str]:
        return {"type": "dataset", "id": ids[name]}

    if operation == "describe":
        return "describe", {"dataset": ref("messy")}
    if operation == "filter_select":
        return "filter_rows", {"dataset": ref("messy"), "filter": FILTER, "columns": FILTER_COLUMNS}
    if operation == "sort":
        return "sort", {"dataset": ref("plays"), "by": SORT_BY}
    if operation == "join":
        return "join", {"left": ref("messy"), "right": ref("table"), "on": ["id"]}
    if operation == "histogram":
        return "histogram", {
            "dataset": ref("messy"),
            "column": HISTOGRAM_COLUMN,
            "bins": HISTOGRAM_BINS,
        }
    raise ValueError(f"unknown operation {operation!r}")


WHAT = {
    "describe": "describe the messy file: every column's count, nulls, min, max; mean, std "
    "and exact quartiles of numbers; top 10 values of categories, booleans and texts",
    "filter_select": "filter the messy file (price > 100, region in 3 of 12) keeping 5 "
    "columns: a new dataset",
    "sort": "sort the plays by (Song, Date): a new dataset",
    "join": f"inner join of the messy file with a {JOIN_ROWS:,}-row table on id: a new dataset",
    "histogram": f"{HISTOGRAM_BINS} equal-width bins of the messy file's price",
}
