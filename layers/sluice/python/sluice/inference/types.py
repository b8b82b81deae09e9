"""The column types sluice infers and converts to, and the text forms each accepts."""

from __future__ import annotations

from enum import StrEnum

import pyarrow as pa


class ColumnType(StrEnum):
    BOOL = "bool"
    INT8 = "int8"
    INT16 = "int16"
    INT32 = "int32"
    INT64 = "int64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    DATETIME = "datetime"
    TIMEDELTA = "timedelta"
    CATEGORY = "category"
    STRING = "string"
    DECIMAL = "decimal"
    """An exact integer of up to 38 digits (decimal128(38, 0), DuckDB's HUGEINT): the sum of
    an int64 column an operation writes, exact past int64. Never inferred or declared."""


WRITTEN_ONLY: frozenset[ColumnType] = frozenset({ColumnType.DECIMAL})
"""Types only sluice's own outputs have: no text is inferred or declared as one."""

PREFERENCE: tuple[ColumnType, ...] = tuple(t for t in ColumnType if t not in WRITTEN_ONLY)
"""The fixed preference order, narrowest first: the first candidate type wins."""


def declarable(column_type: ColumnType) -> ColumnType:
    """``column_type`` if a file's column may be declared or preferred as it (a pydantic
    validator); a ValueError for a type only sluice's outputs have."""
    if column_type in WRITTEN_ONLY:
        raise ValueError(f"{column_type.value} is written by operations, not inferred from text")
    return column_type


INTEGER_RANGES: dict[ColumnType, tuple[int, int]] = {
    ColumnType.INT8: (-(2**7), 2**7 - 1),
    ColumnType.INT16: (-(2**15), 2**15 - 1),
    ColumnType.INT32: (-(2**31), 2**31 - 1),
    ColumnType.INT64: (-(2**63), 2**63 - 1),
}

NUMBER_TYPES: frozenset[ColumnType] = frozenset(
    {*INTEGER_RANGES, ColumnType.FLOAT32, ColumnType.FLOAT64}
)
"""The integer and float types."""
TIME_TYPES: frozenset[ColumnType] = frozenset({ColumnType.DATETIME, ColumnType.TIMEDELTA})
"""The types whose values are points or spans of time."""

TRUE_TEXTS = ("yes", "y", "true", "1")
FALSE_TEXTS = ("no", "n", "false", "0")
"""bool accepts these, case-insensitive, surrounding spaces ignored."""

DEFAULT_NA_VALUES: tuple[str, ...] = (
    "",
    "NA",
    "N/A",
    "n/a",
    "na",
    "NaN",
    "nan",
    "null",
    "NULL",
    "None",
    "none",
    "-",
    "?",
)
"""Texts that mean "missing" unless a dataset's na_values say otherwise."""

DEFAULT_MAX_CATEGORIES = 100
CATEGORY_MAX_RATIO = 0.5
"""category only when distinct <= max_categories and distinct / non-null values <= this."""


class DateOrder(StrEnum):
    """How a datetime column writes its dates. ISO (Y-M-D) and Y/M/D are accepted by every
    order; M/D/Y and D/M/Y are the ambiguous pair a column must choose between."""

    ISO = "iso"  # every value Y-M-D or Y/M/D
    MDY = "mdy"
    DMY = "dmy"


DATE_PARTS: dict[str, tuple[str, ...]] = {
    "iso": ("%Y-%m-%d", "%Y/%m/%d"),
    "mdy": ("%m/%d/%Y", "%m-%d-%Y", "%m.%d.%Y"),
    "dmy": ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"),
}
TIME_PARTS: tuple[str, ...] = (
    "",
    " %H:%M",
    " %H:%M:%S",
    "T%H:%M",
    "T%H:%M:%S",
    " %I:%M %p",
    " %I:%M:%S %p",
    " %I:%M%p",
    " %I:%M:%S%p",
)
"""A date may be followed by a time, on a 24-hour clock or a 12-hour one with AM or PM
(any case, a space before it or none: ``05/01/2024 10:00 PM``, as US exports write it);
fractional seconds and a trailing Z or UTC offset are accepted on ISO values."""
MONTH_NAMES: tuple[str, ...] = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
"""Dates may name their month (``named_dates``): in full or by its first three letters
(``sept`` too), any case, in every date order."""


def date_formats(order: DateOrder) -> tuple[str, ...]:
    """Every strptime format a column of this date order accepts, date part x time part."""
    families = ("iso",) if order is DateOrder.ISO else ("iso", order.value)
    return tuple(d + t for family in families for d in DATE_PARTS[family] for t in TIME_PARTS)


def arrow_type(column_type: ColumnType) -> pa.DataType:
    """The Arrow type a column of ``column_type`` is stored as in Parquet."""
    return {
        ColumnType.BOOL: pa.bool_(),
        ColumnType.INT8: pa.int8(),
        ColumnType.INT16: pa.int16(),
        ColumnType.INT32: pa.int32(),
        ColumnType.INT64: pa.int64(),
        ColumnType.FLOAT32: pa.float32(),
        ColumnType.FLOAT64: pa.float64(),
        ColumnType.DATETIME: pa.timestamp("us"),
        ColumnType.TIMEDELTA: pa.duration("us"),
        ColumnType.CATEGORY: pa.dictionary(pa.int32(), pa.string()),
        ColumnType.STRING: pa.string(),
        ColumnType.DECIMAL: pa.decimal128(38, 0),
    }[column_type]


def arrow_column_type(arrow: pa.DataType) -> ColumnType | None:
    """The sluice type a typed part's Arrow column holds, or None for a type no dataset
    column has (a task's own inputs may carry such, e.g. a decimal with a scale)."""
    if pa.types.is_dictionary(arrow):
        return ColumnType.CATEGORY
    if pa.types.is_boolean(arrow):
        return ColumnType.BOOL
    if pa.types.is_integer(arrow):
        bits = {8: ColumnType.INT8, 16: ColumnType.INT16, 32: ColumnType.INT32}
        return bits.get(arrow.bit_width, ColumnType.INT64)
    if pa.types.is_floating(arrow):
        return ColumnType.FLOAT32 if arrow.bit_width == 32 else ColumnType.FLOAT64
    if pa.types.is_timestamp(arrow) or pa.types.is_date(arrow):
        return ColumnType.DATETIME
    if pa.types.is_duration(arrow):
        return ColumnType.TIMEDELTA
    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        return ColumnType.STRING
    if pa.types.is_decimal(arrow) and arrow.scale == 0:
        return ColumnType.DECIMAL
    return None
