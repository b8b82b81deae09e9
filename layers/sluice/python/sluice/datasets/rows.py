"""Reading typed rows back: only the Parquet parts and row groups that hold them."""

from __future__ import annotations

import bisect
import json
import math
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from sluice.config import settings
from sluice.datasets.manifest import Manifest, Part
from sluice.datasets.models import Dataset
from sluice.datasets.workspace import Workspace
from sluice.errors import Conflict
from sluice.store import objects
from sluice.store.arrow_fs import s3_filesystem

EXCEPTIONS = "_exceptions"
MAX_ROWS = 10_000


def load_manifest(owner: str, dataset_id: str, run: str) -> Manifest:
    """The manifest that a run's typed parts were written with."""
    key = Workspace(owner, dataset_id, run).manifest
    return Manifest.model_validate(objects.get_json(settings().data_bucket, key))


def typed_manifest(dataset: Dataset) -> Manifest:
    """The manifest of the dataset's typed data: that of its last finished run, kept
    through a re-inference or a stopped one; Conflict while it has none."""
    if not dataset.data_run:
        raise Conflict(f"the dataset has no typed data yet (status {dataset.status.value})")
    return load_manifest(dataset.owner, dataset.id, dataset.data_run)


def _read_part(part: Part, start: int, stop: int) -> pa.Table:
    """Rows [start, stop) of one part (part-relative), reading only their row groups."""
    path = f"{settings().data_bucket}/{part.key}"
    with s3_filesystem().open_input_file(path) as source:
        parquet = pq.ParquetFile(source)
        offsets = [0]
        for group in range(parquet.num_row_groups):
            offsets.append(offsets[-1] + parquet.metadata.row_group(group).num_rows)
        first = bisect.bisect_right(offsets, start) - 1
        last = bisect.bisect_left(offsets, stop)
        groups = list(range(first, min(last, parquet.num_row_groups)))
        table = parquet.read_row_groups(groups)
    return table.slice(start - offsets[first], stop - start)


def read_rows(manifest: Manifest, start_row: int, num_rows: int) -> pa.Table:
    """Rows [start_row, start_row + num_rows) of the typed dataset (fewer at its end)."""
    stop = min(start_row + num_rows, manifest.row_count)
    firsts = [p.first_row for p in manifest.parts]
    pieces: list[pa.Table] = []
    index = max(bisect.bisect_right(firsts, start_row) - 1, 0)
    while index < len(manifest.parts) and start_row < stop:
        part = manifest.parts[index]
        local_start = start_row - part.first_row
        local_stop = min(stop - part.first_row, part.rows)
        if local_stop > local_start:
            pieces.append(_read_part(part, local_start, local_stop))
        start_row = part.first_row + part.rows
        index += 1
    if not pieces:
        return pa.table({c.name: pa.array([], pa.string()) for c in manifest.columns})
    return pa.concat_tables(pieces, promote_options="permissive")


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):  # an exact integer sum: JSON's numbers have no bound
        return int(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def shortest_floats(table: pa.Table) -> pa.Table:
    """``table`` with its float32 columns as the float64s of their shortest decimals that
    round-trip in float32 (459.9, not 459.8999938964844, the float64 of the same bits),
    which JSON then writes as they are. Arrow's float32 -> text cast gives that decimal;
    text -> float64 reads it back exactly enough for Python's repr to print it again."""
    for index, field in enumerate(table.schema):
        if pa.types.is_float32(field.type):
            shortest = pc.cast(pc.cast(table.column(index), pa.string()), pa.float64())
            table = table.set_column(index, field.name, shortest)
    return table


def rows_as_records(table: pa.Table) -> list[dict[str, Any]]:
    """Each row as {column: value, ..., "_exceptions": {column: raw text}} (JSON-ready;
    each number the shortest decimal that round-trips in its column's type)."""
    names = table.column_names
    records = []
    for row in shortest_floats(table).to_pylist():
        record = {name: _json_value(row[name]) for name in names if name != EXCEPTIONS}
        record[EXCEPTIONS] = dict(row.get(EXCEPTIONS) or [])
        records.append(record)
    return records


def rows_as_values(table: pa.Table) -> list[list[Any]]:
    """Each row as a list in column order, ending with its _exceptions map."""
    return [list(record.values()) for record in rows_as_records(table)]


def rows_as_csv(table: pa.Table) -> str:
    """The rows as CSV; _exceptions as a JSON object per row."""
    if EXCEPTIONS in table.column_names:
        exceptions = [json.dumps(dict(v or [])) for v in table.column(EXCEPTIONS).to_pylist()]
        table = table.set_column(
            table.column_names.index(EXCEPTIONS), EXCEPTIONS, pa.array(exceptions, pa.string())
        )
    table = table.cast(
        pa.schema(
            [
                pa.field(f.name, pa.string() if pa.types.is_dictionary(f.type) else f.type)
                for f in table.schema
            ]
        )
    )
    sink = pa.BufferOutputStream()
    pcsv.write_csv(table, sink)
    return sink.getvalue().to_pybytes().decode()
