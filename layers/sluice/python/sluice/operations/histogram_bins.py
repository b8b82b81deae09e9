"""Equal-width bins over a column, counted part by part so that the counts add up.

A column's values become float64 (datetimes and durations by their integer ticks, exact
below 2**53 ticks: any microsecond date of this era) and are binned as ``numpy.histogram``
bins them over the global range: the same edges (``linspace``), the last bin closed,
values on an edge placed by comparing with that edge rather than by the rounding of a
division. So each part's counts are exactly numpy's over its rows, and their sum over the
parts is numpy's over the whole column.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sluice.inference.types import NUMBER_TYPES, TIME_TYPES, ColumnType

BINNED = NUMBER_TYPES | TIME_TYPES
"""Column types binned by value; the others' values are counted."""

_NUMERIC_PHYSICAL = {"INT32", "INT64", "FLOAT", "DOUBLE"}


class Unknown(Enum):
    """What the statistics cannot tell."""

    UNKNOWN = "unknown"


UNKNOWN = Unknown.UNKNOWN


def as_numbers(column: pa.ChunkedArray) -> np.ndarray:
    """The column's non-null values as float64 (temporal ones by their ticks)."""
    values = pc.drop_null(column)
    if pa.types.is_timestamp(values.type) or pa.types.is_duration(values.type):
        values = values.cast(pa.int64())
    return np.asarray(values.to_numpy(), dtype=np.float64)


def finite_range(numbers: np.ndarray) -> tuple[float, float] | None:
    """The least and greatest finite value; None when there is none."""
    finite = numbers[np.isfinite(numbers)]
    return (float(finite.min()), float(finite.max())) if len(finite) else None


def statistics_range(
    files: list[pq.FileMetaData], column: str
) -> tuple[float, float] | Unknown | None:
    """The column's finite range from the parts' Parquet statistics (each row group's min
    and max, which Arrow's writer takes over non-NaN values): None when every value is
    null, ``UNKNOWN`` when a row group has no statistics or an infinite bound (only the
    values themselves then tell the finite range)."""
    low = high = None
    for metadata in files:
        index = metadata.schema.to_arrow_schema().get_field_index(column)
        for group in range(metadata.num_row_groups):
            chunk = metadata.row_group(group).column(index)
            stats = chunk.statistics
            if stats is None or stats.physical_type not in _NUMERIC_PHYSICAL:
                return UNKNOWN
            if not stats.has_min_max:
                if stats.has_null_count and stats.null_count == chunk.num_values:
                    continue  # all null
                return UNKNOWN
            # The raw values: a timestamp's or a duration's ticks, as as_numbers reads them;
            # + 0.0, as the values' own min and max: Parquet writes a zero bound as -0.0.
            found = float(stats.min_raw) + 0.0, float(stats.max_raw) + 0.0
            if not all(np.isfinite(found)):
                return UNKNOWN
            low = found[0] if low is None else min(low, found[0])
            high = found[1] if high is None else max(high, found[1])
    return None if low is None or high is None else (low, high)


def edges(low: float, high: float, bins: int) -> np.ndarray:
    """The bins' edges, as numpy.histogram makes them (a one-value range widened by 0.5)."""
    if low == high:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, bins + 1)


def bin_counts(numbers: np.ndarray, bin_edges: np.ndarray) -> np.ndarray:
    """How many finite ``numbers`` fall in each bin (numpy.histogram's rule, vectorised)."""
    bins = len(bin_edges) - 1
    low, high = bin_edges[0], bin_edges[-1]
    inside = numbers[(numbers >= low) & (numbers <= high)]
    index = ((inside - low) * (bins / (high - low))).astype(np.intp)
    index[index == bins] -= 1
    # The division may round a value across an edge: the edges themselves decide.
    index[inside < bin_edges[index]] -= 1
    index[(inside >= bin_edges[index + 1]) & (index != bins - 1)] += 1
    return np.bincount(index, minlength=bins)


def edge_label(value: float, column_type: ColumnType, unit: str) -> Any:
    """An edge as a chart's axis shows it: a number, an ISO time, or seconds."""
    if column_type is ColumnType.DATETIME:  # ISO, as describe writes times
        return pa.scalar(round(value), pa.timestamp(unit)).as_py().isoformat()
    if column_type is ColumnType.TIMEDELTA:
        return pa.scalar(round(value), pa.duration(unit)).as_py().total_seconds()
    return float(value)


def unit_of(arrow: pa.DataType) -> str:
    """The tick unit of a temporal Arrow type ('us' for others, unused)."""
    return str(getattr(arrow, "unit", "us"))
