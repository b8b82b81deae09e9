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


def _predicate_expression(pred: Predicate, arrow: pa.DataType) -> pc.Expression:
    field = pc.field(pred.column)
    if pred.op == "is_null":
        return field.is_null()
    if pred.op == "not_null":
        return field.is_valid()
    if pred.op in ("in", "not_in"):
        if not pred.value:  # as in SQL: nothing is IN (), everything (null too) NOT IN ()
            return pc.scalar(pred.op == "not_in")
        values = [_arrow_value(v, arrow) for v in pred.value]
        if pa.types.is_integer(arrow):  # an int column never equals 2.5; 2.0 means 2
            values = [int(v) for v in values if float(v).is_integer()]
        value_set = pa.array(values, type=arrow)
        inside = field.isin(value_set)
        return inside if pred.op == "in" else ~inside & field.is_valid()
    value = _arrow_value(pred.value, arrow)
    compare = {
        "==": field.__eq__,
        "!=": field.__ne__,
        "<": field.__lt__,
        "<=": field.__le__,
        ">": field.__gt__,
        ">=": field.__ge__,
    }[pred.op]
    result: pc.Expression = compare(value)
    return result


def decode(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(column.type):
        return pc.cast(column, column.type.value_type)
    return column


_ROW = "__row"


def filter_rows(table: pa.Table, predicates: list[Predicate]) -> pa.Table:
    """The rows of ``table`` that pass every predicate (validated: ``validate_filter``),
    with every column as it is (categories stay dictionaries). The predicates are those of
    a task's filter, evaluated the same way, on the decoded columns they read."""
    if not predicates:
        return table
    names = list(dict.fromkeys(p.column for p in predicates))
    data = pa.table({name: decode(table.column(name)) for name in names})
    types = {name: data.schema.field(name).type for name in names}
    expression = _predicate_expression(predicates[0], types[predicates[0].column])
    for pred in predicates[1:]:
        expression = expression & _predicate_expression(pred, types[pred.column])
    # The passing rows' positions, then those rows of every column: one take, no copy of
    # the columns the predicates do not read.
    data = data.append_column(_ROW, pa.array(np.arange(table.num_rows, dtype=np.int64)))
    return table.take(data.filter(expression).column(_ROW))
