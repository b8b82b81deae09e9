"""A task's filter: its predicates evaluated on a part's decoded columns, the rows that
pass kept as they are."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluice.tasks.aggregate_spec import Predicate, parse_iso


def _arrow_value(value: Any, arrow: pa.DataType) -> Any:
    """A validated predicate value as something Arrow compares with a column of ``arrow``."""
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
        values = [_arrow_value(v, arrow) for v in pred.value]
        if pa.types.is_integer(arrow):  # an int column never equals 2.5; 2.0 means 2
            values = [int(v) for v in values if float(v).is_integer()]
        inside = pc.is_in(column, value_set=pa.array(values, type=arrow))
        return inside if pred.op == "in" else pc.and_kleene(pc.invert(inside), pc.is_valid(column))
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
        if pred.op in ("is_null", "not_null", "not_in"):  # a null row's own answer
            passed = pc.fill_null(passed, pred.op == "is_null")
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
