"""Histogram bins counted part by part add up to numpy.histogram's over the whole."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sluice.operations.histogram_bins import (
    UNKNOWN,
    as_numbers,
    bin_counts,
    edges,
    finite_range,
    statistics_range,
)


def test_counts_per_part_add_up_to_numpys_over_the_whole() -> None:
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.normal(0, 1, 50_000), np.linspace(-2, 2, 41), [np.nan, np.inf]])
    parts = np.array_split(values, 7)
    low = min(r[0] for p in parts if (r := finite_range(p)))
    high = max(r[1] for p in parts if (r := finite_range(p)))
    for bins in (1, 7, 40, 333):
        bin_edges = edges(low, high, bins)
        counted = sum(bin_counts(p, bin_edges) for p in parts)
        expected, expected_edges = np.histogram(values[np.isfinite(values)], bins=bins)
        assert counted.tolist() == expected.tolist()
        assert bin_edges.tolist() == expected_edges.tolist()


def test_one_value_has_a_bin_of_width_one_around_it() -> None:
    counted = bin_counts(np.array([5.0, 5.0]), edges(5.0, 5.0, 4))
    assert counted.tolist() == np.histogram([5.0, 5.0], bins=4)[0].tolist()


def test_times_are_binned_by_their_ticks() -> None:
    column = pa.chunked_array([pa.array([0, 10, None, 20], pa.timestamp("ms"))])
    assert as_numbers(column).tolist() == [0.0, 10.0, 20.0]


def _footer(table: pa.Table, row_group_size: int = 2) -> pq.FileMetaData:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=row_group_size)
    return pq.read_metadata(pa.BufferReader(sink.getvalue()))


def test_statistics_range_is_the_parts_finite_range_ignoring_nan_and_nulls() -> None:
    first = _footer(pa.table({"x": pa.array([3.5, None, float("nan"), -2.0], pa.float64())}))
    second = _footer(pa.table({"x": pa.array([None, None, 7.25], pa.float64())}))
    numbers = np.array([3.5, float("nan"), -2.0, 7.25])
    assert statistics_range([first, second], "x") == finite_range(numbers) == (-2.0, 7.25)


def test_statistics_range_of_times_is_their_ticks_as_as_numbers_reads_them() -> None:
    days = pa.array([datetime(2024, 3, 9), None, datetime(2024, 3, 1)], pa.timestamp("us"))
    found = statistics_range([_footer(pa.table({"t": days}))], "t")
    assert found == finite_range(as_numbers(pa.chunked_array([days])))


def test_statistics_range_of_zeros_is_positive_zero() -> None:
    found = statistics_range([_footer(pa.table({"x": pa.array([0.0, 0.0], pa.float32())}))], "x")
    assert found == (0.0, 0.0) and math.copysign(1, found[0]) == 1.0


def test_statistics_range_leaves_infinities_to_the_values() -> None:
    table = pa.table({"x": pa.array([1.0, float("inf"), 2.0], pa.float64())})
    assert statistics_range([_footer(table)], "x") is UNKNOWN


def test_statistics_range_of_only_nulls_is_none() -> None:
    table = pa.table({"x": pa.array([None, None, None], pa.int64())})
    assert statistics_range([_footer(table)], "x") is None


def test_statistics_range_without_statistics_is_unknown() -> None:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"x": pa.array([1, 2], pa.int32())}), sink, write_statistics=False)
    metadata = pq.read_metadata(pa.BufferReader(sink.getvalue()))
    assert statistics_range([metadata], "x") is UNKNOWN
