"""A column's profile for a chart: a histogram of a number or time column, the most
frequent values of the others.

It is read from the typed Parquet parts, that one column only, and answers while a
request waits: up to ``PROFILE_ROWS`` rows it covers every row; past that it reads whole
parts spaced evenly through the dataset and says so (``sampled``, ``rows_read``), since a
page's chart need not scan 100 GB. The exact figures over every row are the describe and
histogram operations' job. A run's parts never change, so a profile is kept beside them
and computed once.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, Field

from sluice.config import settings
from sluice.datasets.manifest import Manifest, Part
from sluice.datasets.workspace import Workspace
from sluice.errors import NotFound
from sluice.inference.types import ColumnType
from sluice.operations.histogram_bins import (
    BINNED,
    as_numbers,
    bin_counts,
    edge_label,
    edges,
    finite_range,
    unit_of,
)
from sluice.store import objects
from sluice.store.arrow_fs import s3_filesystem

PROFILE_ROWS = 2_000_000
"""The most rows a profile reads; past it, evenly spaced parts (a ~40 MB column at most)."""
PARALLEL_PARTS = 8


class Histogram(BaseModel):
    """Equal-width bins: ``counts[i]`` values lie in [edges[i], edges[i+1]), the last
    bin closed. Edges are numbers, ISO times, or seconds for durations."""

    edges: list[Any]
    counts: list[int]


class TopValue(BaseModel):
    value: Any
    count: int


class ColumnProfile(BaseModel):
    """What a chart of one column needs."""

    column: str
    type: ColumnType
    rows: int = Field(description="Rows the profile read.")
    nulls: int = Field(description="Null values among them.")
    sampled: bool = Field(description="Whether only evenly spaced parts were read.")
    histogram: Histogram | None = Field(
        default=None, description="For number and time columns: null when no finite value."
    )
    top_values: list[TopValue] | None = Field(
        default=None, description="For the other columns: by count, then value."
    )
    distinct: int | None = Field(default=None, description="Distinct values read (not null).")


def histogram_of(column: pa.ChunkedArray, column_type: ColumnType, bins: int) -> Histogram | None:
    """``bins`` equal-width bins over the column's finite range (numpy.histogram's rule)."""
    numbers = as_numbers(column)
    span = finite_range(numbers)
    if span is None:
        return None
    bin_edges = edges(*span, bins)
    unit = unit_of(column.type)
    return Histogram(
        edges=[edge_label(edge, column_type, unit) for edge in bin_edges],
        counts=[int(count) for count in bin_counts(numbers, bin_edges)],
    )


def top_values_of(column: pa.ChunkedArray, top: int) -> tuple[list[TopValue], int]:
    """The ``top`` most frequent non-null values, ties in value order; and how many
    distinct values there are."""
    present = pc.drop_null(column)
    if pa.types.is_dictionary(present.type):
        present = present.cast(present.type.value_type)
    counted = pc.value_counts(present)
    table = pa.table({"value": counted.field("values"), "count": counted.field("counts")})
    table = table.sort_by([("count", "descending"), ("value", "ascending")]).slice(0, top)
    values = [TopValue(value=v, count=c) for v, c in zip(*table.to_pydict().values(), strict=True)]
    return values, len(counted)


def profile_table(
    column: pa.ChunkedArray, name: str, column_type: ColumnType, bins: int, top: int
) -> ColumnProfile:
    """The profile of the values read (pure: no storage)."""
    profile = ColumnProfile(
        column=name,
        type=column_type,
        rows=len(column),
        nulls=column.null_count,
        sampled=False,
    )
    if column_type in BINNED:
        profile.histogram = histogram_of(column, column_type, bins)
    else:
        profile.top_values, profile.distinct = top_values_of(column, top)
    return profile


def parts_to_read(parts: list[Part], limit: int) -> list[Part]:
    """Every part when they hold at most ``limit`` rows; otherwise as many as fit,
    spaced evenly from the first to the last (at least one)."""
    total = sum(part.rows for part in parts)
    if total <= limit:
        return parts
    average = total / len(parts)
    count = max(1, min(len(parts), int(limit // max(average, 1))))
    step = len(parts) / count
    return [parts[int(i * step)] for i in range(count)]


def _read_column(part: Part, name: str) -> pa.Table:
    with s3_filesystem().open_input_file(f"{settings().data_bucket}/{part.key}") as source:
        return pq.read_table(source, columns=[name])


def _cache_key(workspace: Workspace, name: str, bins: int, top: int) -> str:
    digest = hashlib.sha256(name.encode()).hexdigest()[:32]
    return f"{workspace.data}profiles/{digest}-{bins}-{top}.json"


def column_profile(
    workspace: Workspace, manifest: Manifest, name: str, bins: int, top: int
) -> ColumnProfile:
    """The profile of column ``name`` of a run's typed data, kept beside its parts."""
    column = next((c for c in manifest.columns if c.name == name), None)
    if column is None:
        raise NotFound(f"the dataset has no column named {name!r}")
    key = _cache_key(workspace, name, bins, top)
    bucket = settings().data_bucket
    kept = objects.find_bytes(bucket, key)
    if kept is not None:
        return ColumnProfile.model_validate_json(kept)
    chosen = parts_to_read(manifest.parts, PROFILE_ROWS)
    tables = objects.concurrently(lambda p: _read_column(p, name), chosen, PARALLEL_PARTS)
    values = (
        pa.concat_tables(tables, promote_options="permissive").column(name)
        if tables
        else pa.chunked_array([], pa.null())
    )
    profile = profile_table(values, name, column.effective_type, bins, top)
    profile.sampled = len(chosen) < len(manifest.parts)
    objects.put_bytes(bucket, key, profile.model_dump_json().encode(), "application/json")
    return profile
