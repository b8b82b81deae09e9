"""describe's statistics merge across parts to those of the whole column."""

from __future__ import annotations

import statistics
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


def test_top_values_of_booleans_are_counted_exactly_across_parts() -> None:
    parts = [[True, False, True], [None, True], [False]]
    stats = [part_stats(pa.chunked_array([p], pa.bool_()), ColumnType.BOOL) for p in parts]
    line = summary("b", ColumnType.BOOL, reduce(merge, stats), 5)
    assert line["top"] == [{"value": "true", "count": 3}, {"value": "false", "count": 2}]
    assert (line["count"], line["nulls"]) == (5, 1)
