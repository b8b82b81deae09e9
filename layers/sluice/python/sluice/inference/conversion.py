"""Converting a chunk's text columns to their decided types, vectorised.

A value that fails its column's type becomes null, and its raw text goes into the
row's ``_exceptions`` map (column -> text), as MetaFormer did; nothing is lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluice.inference import text_parsing, time_parsing
from sluice.inference.column_parse import ColumnParse, few_distinct, per_row
from sluice.inference.types import (
    FALSE_TEXTS,
    INTEGER_RANGES,
    TRUE_TEXTS,
    ColumnType,
    DateOrder,
    arrow_type,
)

EXCEPTIONS = "_exceptions"
EXCEPTIONS_TYPE = pa.map_(pa.string(), pa.string())


class ColumnPlanLike(Protocol):
    name: str
    type: ColumnType
    date_order: DateOrder | None


def _parse(raw: pa.Array, plan: ColumnPlanLike, decimal: str = ".") -> tuple[pa.Array, pa.Array]:
    """(passes, values) for one column: which texts parse as its type, and as what.

    A column of few distinct texts (dates, flags) is parsed on those texts, each once."""
    encoded = few_distinct(raw)
    if encoded is None:
        return _parse_texts(raw, plan, decimal)
    return per_row(_parse_texts(encoded.dictionary, plan, decimal), encoded.indices)


def _parse_texts(
    raw: pa.Array, plan: ColumnPlanLike, decimal: str = "."
) -> tuple[pa.Array, pa.Array]:
    kind = plan.type
    if kind is ColumnType.BOOL:
        return text_parsing.bool_mask_and_values(raw)
    if kind in INTEGER_RANGES:
        passes, values = text_parsing.int_values(text_parsing.with_decimal_point(raw, decimal))
        return pc.and_(passes, text_parsing.int_range_mask(values, kind)), values
    if kind in (ColumnType.FLOAT32, ColumnType.FLOAT64):
        # float32 rounds what it cannot hold exactly rather than refusing it.
        return text_parsing.float_values(text_parsing.with_decimal_point(raw, decimal))
    if kind is ColumnType.DATETIME:
        return time_parsing.datetime_values(raw, plan.date_order or DateOrder.ISO)
    if kind is ColumnType.TIMEDELTA:
        return time_parsing.timedelta_values(raw)
    raise ValueError(f"no parser for {kind}")


def convert_column(
    raw: pa.Array, plan: ColumnPlanLike, parse: ColumnParse | None = None, decimal: str = "."
) -> tuple[pa.Array, np.ndarray]:
    """The typed column, and the row numbers whose text failed the type; ``parse``, when
    the column was already read as every type, spares reading it again. Numbers are
    written with the decimal mark ``decimal``."""
    if not (pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type)):
        # Parsed natively already; a narrowing cast that overflows raises (safe cast).
        return raw.cast(arrow_type(plan.type)), np.empty(0, dtype=np.int64)
    present = pc.is_valid(raw)
    if plan.type is ColumnType.STRING:
        return raw.cast(pa.string()), np.empty(0, dtype=np.int64)
    if plan.type is ColumnType.CATEGORY:
        return raw.cast(pa.string()).dictionary_encode().cast(arrow_type(plan.type)), np.empty(
            0, dtype=np.int64
        )
    passes, values = (
        parse.typed(plan.type, plan.date_order) if parse else _parse(raw, plan, decimal)
    )
    passes = pc.fill_null(passes, False)
    typed = pc.if_else(passes, values, pa.scalar(None, values.type)).cast(arrow_type(plan.type))
    failed = pc.and_(present, pc.invert(passes))
    rows = np.flatnonzero(failed.to_numpy(zero_copy_only=False))
    return typed, rows


Failure = tuple[str, np.ndarray, pa.Array]
"""A column's failed values: its name, the failed row numbers, and the column's texts."""


def exceptions_column(length: int, failures: list[Failure]) -> pa.MapArray:
    """Per row, a map column -> raw text of the values that failed (empty when none)."""
    if not failures:
        offsets = pa.array(np.zeros(length + 1, dtype=np.int32))
        return pa.MapArray.from_arrays(
            offsets, pa.array([], pa.string()), pa.array([], pa.string())
        )
    rows = np.concatenate([r for _, r, _ in failures])
    keys = pa.concat_arrays(
        [pa.array(np.full(len(r), name, dtype=object), pa.string()) for name, r, _ in failures]
    )
    texts = pa.concat_arrays([raw.take(pa.array(r)).cast(pa.string()) for _, r, raw in failures])
    order = pa.array(np.argsort(rows, kind="stable"))
    counts = np.bincount(rows, minlength=length)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.MapArray.from_arrays(pa.array(offsets), keys.take(order), texts.take(order))


NATIVE_TYPES: dict[ColumnType, pa.DataType] = {
    **dict.fromkeys(INTEGER_RANGES, pa.int64()),
    ColumnType.FLOAT32: pa.float64(),
    ColumnType.FLOAT64: pa.float64(),
    ColumnType.BOOL: pa.bool_(),
}
"""Types pyarrow's CSV reader can parse itself, far faster than a regex pass over text."""


def _spellings(texts: tuple[str, ...]) -> list[str]:
    return sorted({form for text in texts for form in (text, text.upper(), text.capitalize())})


TRUE_SPELLINGS = _spellings(TRUE_TEXTS)
FALSE_SPELLINGS = _spellings(FALSE_TEXTS)


def native_types(plans: Sequence[ColumnPlanLike]) -> dict[str, pa.DataType]:
    """The columns pyarrow may parse itself, and as what."""
    return {p.name: NATIVE_TYPES[p.type] for p in plans if p.type in NATIVE_TYPES}


def may_hold_rounded_integers(table: pa.Table, plans: Sequence[ColumnPlanLike]) -> bool:
    """Whether a float column pyarrow parsed natively holds a whole number from 2**53 on:
    it may have been an integer text float64 rounds, which the text path refuses
    (``text_parsing.float_values``). Rare in a column of floats; a column of such
    numbers is read as text."""
    for plan in plans:
        if plan.type not in (ColumnType.FLOAT32, ColumnType.FLOAT64):
            continue
        column = table.column(plan.name)
        if not pa.types.is_floating(column.type):
            continue
        if not text_parsing.reaches_exact_integer_limit(column):
            continue
        values = np.asarray(pc.fill_null(column, 0.0).to_numpy(), dtype=np.float64)
        with np.errstate(invalid="ignore"):
            large = np.isfinite(values) & (np.abs(values) >= text_parsing.EXACT_INTEGER_LIMIT)
            if (large & (np.floor(values) == values)).any():
                return True
    return False


def convert_columns(
    table: pa.Table,
    plans: Sequence[ColumnPlanLike],
    parses: Mapping[str, ColumnParse] | None = None,
    decimal: str = ".",
) -> tuple[list[pa.Array], list[Failure]]:
    """Each planned column of ``table`` typed, in plan order, and the failures among
    them: (column, failed row numbers, the column's texts), for :func:`exceptions_column`."""
    arrays, failures = [], []
    for plan in plans:
        column = table.column(plan.name)
        # One chunk is read in place: Arrow's combine_chunks copies even a single one.
        raw = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
        typed, failed_rows = convert_column(raw, plan, (parses or {}).get(plan.name), decimal)
        arrays.append(typed)
        if len(failed_rows):
            failures.append((plan.name, failed_rows, raw))
    return arrays, failures


def typed_schema(plans: Sequence[ColumnPlanLike]) -> pa.Schema:
    """The schema of a typed part: the planned columns, then ``_exceptions``."""
    fields = [pa.field(plan.name, arrow_type(plan.type)) for plan in plans]
    return pa.schema([*fields, pa.field(EXCEPTIONS, EXCEPTIONS_TYPE)])


def convert_table(
    table: pa.Table,
    plans: Sequence[ColumnPlanLike],
    parses: Mapping[str, ColumnParse] | None = None,
    decimal: str = ".",
) -> tuple[pa.Table, int]:
    """The chunk typed column by column, plus ``_exceptions``; and how many values failed.

    ``parses`` are the columns' readings from ``inference.chunk_stats_and_parses``;
    ``decimal`` the decimal mark of the texts' numbers."""
    arrays, failures = convert_columns(table, plans, parses, decimal)
    arrays.append(exceptions_column(table.num_rows, failures))
    count = sum(len(r) for _, r, _ in failures)
    return pa.Table.from_arrays(arrays, schema=typed_schema(plans)), count
