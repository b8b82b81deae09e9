"""describe's statistics merge across parts to those of the whole column."""

from __future__ import annotations

import statistics
from fractions import Fraction
from functools import reduce

import pyarrow as pa
import pytest
from sluice.inference.types import ColumnType
from sluice.operations.describe_stats import merge, part_stats, summary


def test_parts_merge_to_the_whole_columns_statistics() -> None:
    values = [3.5, None, -1.0, 1e9, 2.25, None, 7.0, 0.125, float("nan")]
    parts = [values[0:2], values[2:3], values[3:7], values[7:]]
    stats = [part_stats(pa.chunked_array([p], pa.float64()), ColumnType.FLOAT64) for p in parts]
    line = summary("x", ColumnType.FLOAT64, reduce(merge, stats), 5)
    finite = [v for v in values if v is not None and v == v]
    assert (line["count"], line["nulls"]) == (7, 2)
    assert line["mean"] == pytest.approx(statistics.fmean(finite), rel=1e-15)
    assert line["std"] == pytest.approx(statistics.stdev(finite), rel=1e-12)


def test_an_integer_columns_mean_is_its_exact_sum_divided_near_int64s_edges() -> None:
    top, bottom = 2**63 - 1, -(2**63)
    parts = [[top, top - 6, None], [bottom, 3], [bottom + 10, 7]]
    stats = [part_stats(pa.chunked_array([p], pa.int64()), ColumnType.INT64) for p in parts]
    line = summary("big", ColumnType.INT64, reduce(merge, stats), 5)
    values = [v for p in parts for v in p if v is not None]
    assert (line["min"], line["max"]) == (bottom, top)
    # float64 sums of these values come out thousands off: the exact sum, rounded once.
    assert line["mean"] == float(Fraction(sum(values), len(values))) == 2.0
    assert statistics.fmean(values) == 10 / 6


def test_a_decimal_columns_statistics_are_exact_integers() -> None:
    values = [10**30, -(10**29), None, 7]
    column = pa.chunked_array([pa.array(values, pa.decimal128(38, 0))])
    line = summary("sum", ColumnType.DECIMAL, part_stats(column, ColumnType.DECIMAL), 5)
    assert (line["count"], line["min"], line["max"]) == (3, -(10**29), 10**30)
    assert line["mean"] == float(Fraction(10**30 - 10**29 + 7, 3))


def test_top_values_of_booleans_are_counted_exactly_across_parts() -> None:
    parts = [[True, False, True], [None, True], [False]]
    stats = [part_stats(pa.chunked_array([p], pa.bool_()), ColumnType.BOOL) for p in parts]
    line = summary("b", ColumnType.BOOL, reduce(merge, stats), 5)
    assert line["top"] == [{"value": "true", "count": 3}, {"value": "false", "count": 2}]
    assert (line["count"], line["nulls"]) == (5, 1)
