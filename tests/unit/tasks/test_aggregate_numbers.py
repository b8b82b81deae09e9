"""aggregate_output.numbers: a column's values as numpy, nulls filled, no copy without nulls."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from sluice.tasks.aggregate_output import numbers


def test_numbers_fills_nulls_with_the_given_value():
    assert numbers(pa.array([1, None, 3], pa.int64())).tolist() == [1, 0, 3]
    assert numbers(pa.array([1.5, None], pa.float64()), -1.0).tolist() == [1.5, -1.0]


def test_numbers_reads_a_column_without_nulls_in_place():
    values = pa.array([4, 5, 6], pa.int64())
    found = numbers(values)
    assert found.tolist() == [4, 5, 6]
    assert not found.flags.writeable  # Arrow's own buffer, not a copy


def test_numbers_joins_the_chunks_of_a_chunked_column():
    chunked = pa.chunked_array([pa.array([1, None], pa.int32()), pa.array([3], pa.int32())])
    found = numbers(chunked, 9)
    assert found.dtype == np.int32
    assert found.tolist() == [1, 9, 3]
