"""One type for columns of several types (stack's columns, join's keys): the first of the
inference's preference order (narrowest first) that holds each of them without loss,
within their kind. Kinds do not mix: a number and a time, a flag and a number, a number
and a text have no common type here, though a text could hold any of them, because
turning one into texts is almost never what stacking or joining them meant."""

from __future__ import annotations

from sluice.inference.types import ColumnType

_INTS = (ColumnType.INT8, ColumnType.INT16, ColumnType.INT32, ColumnType.INT64)
_HOLDS: dict[ColumnType, frozenset[ColumnType]] = {
    ColumnType.BOOL: frozenset({ColumnType.BOOL}),
    **{t: frozenset(_INTS[: i + 1]) for i, t in enumerate(_INTS)},
    ColumnType.FLOAT32: frozenset({ColumnType.INT8, ColumnType.INT16, ColumnType.FLOAT32}),
    ColumnType.FLOAT64: frozenset({*_INTS, ColumnType.FLOAT32, ColumnType.FLOAT64}),
    ColumnType.DATETIME: frozenset({ColumnType.DATETIME}),
    ColumnType.TIMEDELTA: frozenset({ColumnType.TIMEDELTA}),
    ColumnType.CATEGORY: frozenset({ColumnType.CATEGORY}),
    ColumnType.STRING: frozenset({ColumnType.CATEGORY, ColumnType.STRING}),
    ColumnType.DECIMAL: frozenset({*_INTS, ColumnType.DECIMAL}),
}
"""The types each type holds without loss (int64 in float64: as pandas and DuckDB do;
an operation's exact sums with integers: decimal, as DuckDB's HUGEINT with BIGINT)."""


def unified(types: list[ColumnType]) -> ColumnType | None:
    """The first type in preference order (then decimal, which only outputs have) that
    holds all of ``types``; None if none does."""
    return next((t for t in ColumnType if all(s in _HOLDS[t] for s in types)), None)
