"""Datasets written by sluice itself (an operation's table output), not ingested.

The parts are typed Parquet already, written where a run's parts go
(``Workspace(owner, id, run).part(i)``); this writes what the ingest's Finish writes
beside them (the manifest, the columns with their null counts), registers its Glue table
and records the dataset ready, so that row reads, downloads, tasks, operations and Athena
take it like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

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

FACT_COLUMNS = 256
"""Up to this many columns, a part's writer says each one's type and nulls (``column_facts``),
so that ``record_derived`` reads no footer; a wider part's facts would swell the step's
answer (a Map child's output is at most 256 KB), so its footer is read as before."""

FACT_BYTES = 16 * 1024
"""The most a part's facts may take as JSON (long names count): a Map child's batch of
8 parts (``map_results.MAX_BATCH``) then answers well inside its 256 KB."""


class WrittenColumn(BaseModel):
    """A column of a typed part as written: its sluice type (None for the raw texts of
    failed values, ``EXCEPTIONS``, or an Arrow type sluice has none for) and its nulls."""

    name: str
    type: ColumnType | None
    nulls: int


class WrittenFile(BaseModel):
    """A typed part as written: its key, rows and bytes, and its columns when its writer
    told them (else its footer is read for them)."""

    key: str
    rows: int
    bytes: int
    columns: list[WrittenColumn] | None = None


def column_facts(table: pa.Table) -> list[WrittenColumn] | None:
    """Each column's type and null count (as the part's Parquet statistics count them), for
    ``WrittenFile.columns``; None for a table wider than ``FACT_COLUMNS`` or whose facts
    take more than ``FACT_BYTES``."""
    if table.num_columns > FACT_COLUMNS:
        return None
    facts = [
        WrittenColumn(
            name=field.name,
            type=None if field.name == EXCEPTIONS else arrow_column_type(field.type),
            nulls=table.column(index).null_count,
        )
        for index, field in enumerate(table.schema)
    ]
    if sum(len(fact.model_dump_json()) for fact in facts) > FACT_BYTES:
        return None
    return facts


def column_type(arrow: pa.DataType) -> ColumnType:
    """The sluice type of a typed part's Arrow column."""
    found = arrow_column_type(arrow)
    if found is None:
        raise ValueError(f"a dataset has no column type for Arrow's {arrow}")
    return found


def _footer(key: str) -> list[WrittenColumn]:
    """A part's columns and each top-level column's null count, from its footer alone."""
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
    return [
        WrittenColumn(
            name=field.name,
            type=None if field.name == EXCEPTIONS else column_type(field.type),
            nulls=nulls[field.name],
        )
        for field in schema
    ]


def _columns(file: WrittenFile) -> list[WrittenColumn]:
    """The part's columns: as its writer told them, else from its footer."""
    return file.columns if file.columns is not None else _footer(file.key)


def _typed(column: WrittenColumn) -> ColumnType:
    if column.type is None:
        raise ValueError(f"a dataset has no column type for column {column.name!r}")
    return column.type


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
    each = objects.concurrently(_columns, files, 8)
    nulls: dict[str, int] = {}
    for found in each:
        for column in found:
            nulls[column.name] = nulls.get(column.name, 0) + column.nulls
    first = each[0] if each else []
    typed = [(c.name, _typed(c)) for c in first if c.name != EXCEPTIONS]
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
    exceptions = any(c.name == EXCEPTIONS for c in first)
    # Before the record exists, and at once (each a round trip): the columns, the manifest
    # and the table, so that whoever sees the dataset sees its table (or why it has none).
    writes: list[Callable[[], Any]] = [
        lambda: column_store.store(bucket, workspace.columns, columns),
        lambda: objects.put_json(bucket, workspace.manifest, manifest),
        lambda: query_tables.register(template, manifest, exceptions=exceptions),
    ]
    registered = objects.concurrently(lambda write: write(), writes, len(writes))[-1]
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
