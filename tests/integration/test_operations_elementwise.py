"""Median and mean across datasets of one shape on the real state machine, checked
against DuckDB over the same rows; the datasets' parts split their rows differently."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa
import pytest

from tests.integration.sessions_support import (
    new_session,
    ref,
    reference,
    rows_of,
    run,
    run_to_end,
    sales_csv,
)
from tests.integration.uploader import Uploader

SEEDS = (0, 5, 11)


@pytest.fixture(scope="module")
def shapes(local: Any) -> tuple[Uploader, list[dict[str, Any]], str]:
    uploader = Uploader(local)
    datasets = [uploader.ingest(sales_csv(seed=seed)) for seed in SEEDS]
    for dataset in datasets:
        assert dataset["status"] == "ready", dataset["error"]
        assert dataset["chunk_count"] > 5
    session = new_session(uploader, *(d["id"] for d in datasets))
    return uploader, datasets, session["id"]


def stacked() -> pa.Table:
    """The three reference tables, each row with its position and its dataset's."""
    tables = []
    for index, seed in enumerate(SEEDS):
        table = reference(sales_csv(seed=seed))
        table = table.append_column("row", pa.array(range(table.num_rows)))
        tables.append(table.append_column("source", pa.array([index] * table.num_rows)))
    return pa.concat_tables(tables)


def test_median_is_duckdbs_per_row_and_column(shapes: Any) -> None:
    uploader, datasets, session_id = shapes
    done = run_to_end(
        uploader, session_id, "median", {"datasets": [ref(d["id"]) for d in datasets]}
    )
    output = uploader.dataset(done["output"]["datasets"][0])
    assert [(c["name"], c["effective_type"]) for c in output["columns"]] == [
        ("id", "float64"),
        ("region", "category"),
        ("amount", "float64"),
        ("qty", "float64"),
        ("day", "datetime"),
        ("note", "string"),
        ("big", "float64"),
        ("label", "string"),
        ("price", "float64"),
    ]
    rows = stacked()  # noqa: F841 (read by DuckDB by name)
    expected = duckdb.sql(
        "SELECT median(qty), median(amount::FLOAT::DOUBLE),"
        " arg_min(region, source), arg_min(note, source), median(big), median(price),"
        " arg_min(label, source)"
        " FROM rows GROUP BY row ORDER BY row"
    ).fetchall()
    got = rows_of(uploader, output["id"])
    assert [r["big"] for r in got] == [e[4] for e in expected]
    assert [r["price"] for r in got] == [e[5] for e in expected]
    assert [r["label"] for r in got] == [e[6] for e in expected]
    assert [r["qty"] for r in got] == [e[0] for e in expected]
    assert [r["amount"] for r in got] == [e[1] for e in expected]
    assert [(r["region"], r["note"]) for r in got] == [(e[2], e[3]) for e in expected]
    assert [r["id"] for r in got] == [float(i) for i in range(400)]


def test_mean_is_duckdbs_per_row_and_column(shapes: Any) -> None:
    uploader, datasets, session_id = shapes
    done = run_to_end(uploader, session_id, "mean", {"datasets": [ref(d["id"]) for d in datasets]})
    rows = stacked()  # noqa: F841 (read by DuckDB by name)
    expected = duckdb.sql(
        "SELECT avg(qty), avg(amount::FLOAT::DOUBLE), avg(big), list(big) FROM rows"
        " GROUP BY row ORDER BY row"
    ).fetchall()
    got = rows_of(uploader, done["output"]["datasets"][0])
    # int64s near its edges: the exact sum rounded once, then divided, as DuckDB's avg
    # (a float64 sum would be off by thousands where +9.2e18 and -9.2e18 meet).
    present = [[v for v in e[3] if v is not None] for e in expected]
    assert [r["big"] for r in got] == [float(sum(vs)) / len(vs) for vs in present]
    assert [r["big"] for r in got] == pytest.approx([e[2] for e in expected], rel=1e-15)
    assert [r["qty"] for r in got] == pytest.approx([e[0] for e in expected], rel=1e-12)
    assert [r["amount"] for r in got] == pytest.approx([e[1] for e in expected], rel=1e-12)


def test_datasets_of_another_shape_are_refused_naming_them(shapes: Any) -> None:
    uploader, datasets, session_id = shapes
    shorter = uploader.ingest(sales_csv(rows=350))
    texts = uploader.ingest(sales_csv().replace(b"id,region", b"id,zone", 1))
    request = {"datasets": [ref(datasets[0]["id"]), ref(shorter["id"]), ref(texts["id"])]}
    status, body = run(uploader, session_id, "median", request)
    assert (status, body["error"]["details"]) == (
        422,
        [
            {
                "field": "input_data.datasets[2]",
                "problem": "no column 'region', which datasets[0] has",
            },
            {
                "field": "input_data.datasets[2]",
                "problem": "a column 'zone', which datasets[0] has not",
            },
            {"field": "input_data.datasets[1]", "problem": "350 rows, datasets[0] has 400"},
        ],
    )
