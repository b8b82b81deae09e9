"""Datasets written by sluice itself (an operation's table output), not ingested.

The parts are typed Parquet already, written where a run's parts go
(``Workspace(owner, id, run).part(i)``); this writes what the ingest's Finish writes
beside them (the manifest, the columns with their null counts), registers its Glue table
and records the dataset ready, so that row reads, downloads, tasks, operations and Athena
take it like any other.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from sluice.config import settings
from sluice.datasets import columns as column_store
from sluice.datasets import query_tables
from sluice.datasets.manifest import Manifest, ManifestColumn, Part
from sluice.datasets.models import (
    Dataset,
    DatasetChanges,
    DatasetStatus,
    SourceObject,
    utcnow,
)
from sluice.datasets.repository import DatasetRepository
from sluice.datasets.rows import EXCEPTIONS
from sluice.datasets.workspace import Workspace
from sluice.inference.schema import ColumnSchema
from sluice.inference.types import ColumnType, arrow_column_type
from sluice.store import objects
from sluice.store.arrow_fs import s3_filesystem


class WrittenFile(BaseModel):
    """A typed part as written: its key, rows and bytes."""

    key: str
    rows: int
    bytes: int


def column_type(arrow: pa.DataType) -> ColumnType:
    """The sluice type of a typed part's Arrow column."""
    found = arrow_column_type(arrow)
    if found is None:
        raise ValueError(f"a dataset has no column type for Arrow's {arrow}")
    return found


def _footer(key: str) -> tuple[pa.Schema, dict[str, int]]:
    """A part's schema and each top-level column's null count, from its footer alone."""
    with s3_filesystem().open_input_file(f"{settings().data_bucket}/{key}") as source:
        metadata = pq.ParquetFile(source).metadata
    schema = metadata.schema.to_arrow_schema()
    nulls = dict.fromkeys(schema.names, 0)
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for index in range(row_group.num_columns):
            chunk = row_group.column(index)
            stats = chunk.statistics
            if chunk.path_in_schema in nulls and stats is not None and stats.has_null_count:
                nulls[chunk.path_in_schema] += stats.null_count
    return schema, nulls


def record_derived(
    repo: DatasetRepository,
    template: Dataset,
    run: str,
    files: Sequence[WrittenFile],
    written_by: str = "an operation",
) -> Dataset:
    """Write the manifest and columns of ``files`` (the parts of ``run``, in row order)
    and record ``template`` (its id, owner, name, path, description, content hash) ready.
    Each column notes that ``written_by`` typed it, not inference."""
    bucket = settings().data_bucket
    workspace = Workspace(template.owner, template.id, run)
    footers = objects.concurrently(_footer, [f.key for f in files], 8)
    nulls: dict[str, int] = {}
    for _, counts in footers:
        for name, count in counts.items():
            nulls[name] = nulls.get(name, 0) + count
    schema = footers[0][0] if footers else pa.schema([])
    typed = [(f.name, column_type(f.type)) for f in schema if f.name != EXCEPTIONS]
    columns = [
        ColumnSchema(
            name=name,
            inferred_type=kind,
            effective_type=kind,
            null_count=nulls.get(name, 0),
            failures={},
            notes=[f"written by {written_by}: its type is its writer's, not inferred"],
        )
        for name, kind in typed
    ]
    parts, first_row = [], 0
    for f in files:
        parts.append(Part(key=f.key, first_row=first_row, rows=f.rows, bytes=f.bytes))
        first_row += f.rows
    manifest = Manifest(
        run=run,
        row_count=first_row,
        columns=[ManifestColumn(name=n, effective_type=t) for n, t in typed],
        parts=parts,
    )
    column_store.store(bucket, workspace.columns, columns)
    objects.put_json(bucket, workspace.manifest, manifest)
    # Before the record exists: whoever sees the dataset sees its table (or why it has none).
    registered = query_tables.register(template, manifest, exceptions=EXCEPTIONS in schema.names)
    now = utcnow()
    dataset = template.model_copy(
        update={
            "status": DatasetStatus.READY,
            "progress": 1.0,
            "created_at": now,
            "updated_at": now,
            "source": SourceObject(bucket=bucket, key=workspace.manifest),
            "size_bytes": sum(f.bytes for f in files),
            "row_count": first_row,
            "column_count": len(columns),
            "query_table": registered.query_table,
            "catalog_error": registered.catalog_error,
        }
    )
    repo.create(dataset)
    # The record's bookkeeping (which run is its typed data, the preview) is not part of
    # the served model, so not of what create writes.
    ready = repo.update(
        dataset.owner,
        dataset.id,
        DatasetChanges(data_run=run, stats_run=run, column_preview=column_store.preview(columns)),
    )
    return ready if ready is not None else dataset
