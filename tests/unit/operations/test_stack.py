"""Stack's types: the first in preference order that holds each column's types."""

from __future__ import annotations

import pyarrow as pa
from sluice.inference.types import ColumnType as T
from sluice.operations.column_types import unified
from sluice.operations.library.stack import conform, unify


def test_a_column_takes_the_narrowest_type_holding_all_of_its_types() -> None:
    assert unified([T.INT8, T.INT32]) is T.INT32
    assert unified([T.INT16, T.FLOAT32]) is T.FLOAT32
    assert unified([T.INT32, T.FLOAT32]) is T.FLOAT64  # float32 cannot hold every int32
    assert unified([T.CATEGORY, T.CATEGORY]) is T.CATEGORY
    assert unified([T.CATEGORY, T.STRING]) is T.STRING
    assert unified([T.BOOL, T.INT8]) is None
    assert unified([T.DATETIME, T.STRING]) is None


def test_an_exact_sum_stacks_with_integers_as_a_decimal() -> None:
    assert unified([T.INT64, T.DECIMAL]) is T.DECIMAL
    assert unified([T.DECIMAL, T.DECIMAL]) is T.DECIMAL
    assert unified([T.FLOAT64, T.DECIMAL]) is None  # a float would round it


def test_each_column_that_does_not_stack_is_named_with_the_first_dataset_it_fails_in() -> None:
    columns, problems = unify(
        [{"a": T.INT8, "b": T.DATETIME}, {"b": T.DATETIME, "c": T.BOOL}, {"a": T.TIMEDELTA}]
    )
    assert columns == {"b": T.DATETIME, "c": T.BOOL}
    assert problems == [
        "datasets[2]: column 'a' is timedelta there and int8 before: they do not stack"
    ]


def test_a_part_is_cast_and_given_the_columns_it_lacks() -> None:
    table = pa.table({"b": pa.array([1, 2], pa.int8()), "a": ["x", "y"]})
    out = conform(table, {"a": T.STRING, "b": T.FLOAT64, "c": T.DATETIME})
    assert out.schema == pa.schema(
        [("a", pa.string()), ("b", pa.float64()), ("c", pa.timestamp("us"))]
    )
    assert out.to_pylist() == [{"a": "x", "b": 1.0, "c": None}, {"a": "y", "b": 2.0, "c": None}]
