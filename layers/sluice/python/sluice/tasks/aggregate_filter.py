"""A task's filter: each predicate evaluated by Arrow's kernels into a mask over a
part's columns (a category's on its dictionary), the rows that pass kept as they are."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluice.tasks.aggregate_spec import Predicate, parse_iso


def _arrow_value(value: Any, arrow: pa.DataType) -> Any:
    """A validated predicate value as something Arrow compares with a column of ``arrow``."""
    if pa.types.is_decimal(arrow) and _whole(value):  # exactly, past int64's range too
        return pa.scalar(decimal.Decimal(value), arrow)
    if pa.types.is_timestamp(arrow) or pa.types.is_date(arrow):
        if isinstance(value, str):
            value = parse_iso(value)
        elif not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time())
        return pa.scalar(value, pa.timestamp("us")).cast(arrow)
    if pa.types.is_duration(arrow):
        if not isinstance(value, dt.timedelta):
            value = dt.timedelta(seconds=value)
        return pa.scalar(value, pa.duration("us")).cast(arrow)
    return value


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _beyond(value: Any, arrow: pa.DataType) -> int:
    """1 (or -1) where ``value`` is a whole number above (or below) every value a column
    of ``arrow`` (integers, decimals) can hold, which Arrow cannot make a scalar of its
    kind; else 0."""
    if not _whole(value):
        return 0
    if pa.types.is_integer(arrow):
        low, high = -(2**63), 2**63 - 1  # narrower ints compare as int64
    elif pa.types.is_decimal(arrow):
        high = 10 ** (arrow.precision - arrow.scale) - 1
        low = -high
    else:
        return 0
    return 1 if value > high else -1 if value < low else 0


_ABOVE_ALL = {"<": True, "<=": True, "!=": True, ">": False, ">=": False, "==": False}
"""Whether a column's value passes ``value op v`` for a ``v`` above all it can hold."""

_MIRRORED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
"""``x op v`` for a ``v`` below all is ``x mirrored(op) v'`` for a ``v'`` above all."""


def _mask(pred: Predicate, column: pa.Array) -> Any:
    """Whether each value of a plain (not dictionary) ``column`` passes ``pred``, as SQL
    says: comparing with null is null (not passing), NOT IN is false for null."""
    arrow = column.type
    if pred.op == "is_null":
        return pc.is_null(column)
    if pred.op == "not_null":
        return pc.is_valid(column)
    if pred.op in ("in", "not_in"):
        if not pred.value:  # as in SQL: nothing is IN (), everything (null too) NOT IN ()
            return pa.array(np.full(len(column), pred.op == "not_in"))
        # No value of the column equals one beyond its range.
        values = [_arrow_value(v, arrow) for v in pred.value if not _beyond(v, arrow)]
        if pa.types.is_integer(arrow):  # an int column never equals 2.5; 2.0 means 2
            values = [int(v) for v in values if float(v).is_integer()]
        inside = pc.is_in(column, value_set=pa.array(values, type=arrow))
        return inside if pred.op == "in" else pc.and_kleene(pc.invert(inside), pc.is_valid(column))
    beyond = _beyond(pred.value, arrow)
    if beyond:  # every (valid) value is on the same side of it
        passes = _ABOVE_ALL[pred.op] if beyond > 0 else _ABOVE_ALL[_MIRRORED[pred.op]]
        return pc.is_valid(column) if passes else pa.array(np.zeros(len(column), bool))
    compare = {
        "==": pc.equal,
        "!=": pc.not_equal,
        "<": pc.less,
        "<=": pc.less_equal,
        ">": pc.greater,
        ">=": pc.greater_equal,
    }[pred.op]
    return compare(column, _arrow_value(pred.value, arrow))


def _predicate_mask(pred: Predicate, column: pa.ChunkedArray) -> pa.ChunkedArray:
    """:func:`_mask` of a column; a category's predicate is evaluated once per distinct
    value, on its dictionary, and spread over its rows by their indices (no decode)."""
    if not pa.types.is_dictionary(column.type) or (pred.op in ("in", "not_in") and not pred.value):
        return pa.chunked_array([_mask(pred, chunk) for chunk in column.chunks], pa.bool_())
    chunks = []
    for chunk in column.chunks:
        passed = pc.take(_mask(pred, chunk.dictionary), chunk.indices)
        if pred.op == "is_null":  # a null row (a null index) is null; for the rest its
            passed = pc.fill_null(passed, True)  # null answer does not pass, as false
        chunks.append(passed)
    return pa.chunked_array(chunks, pa.bool_())


def decode(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(column.type):
        return pc.cast(column, column.type.value_type)
    return column


def filter_rows(table: pa.Table, predicates: list[Predicate]) -> pa.Table:
    """The rows of ``table`` that pass every predicate (validated: ``validate_filter``),
    with every column as it is (categories stay dictionaries). The predicates are those of
    a task's filter, each evaluated by Arrow's kernels into a mask (a category's on its
    dictionary: a fifth of the time of decoding it and filtering through Acero)."""
    if not predicates:
        return table
    mask = _predicate_mask(predicates[0], table.column(predicates[0].column))
    for pred in predicates[1:]:
        mask = pc.and_kleene(mask, _predicate_mask(pred, table.column(pred.column)))
    return table.filter(mask)  # a null (unknown) is not passing, as in SQL
