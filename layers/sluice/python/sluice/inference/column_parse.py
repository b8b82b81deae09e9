"""One column's texts read as every type at once.

Inference counts what fails each type; conversion keeps the values of the type that
won. A scan does both on the same texts, so it parses each column once, here, and
hands the result to both (``inference.chunk_stats_and_parses``,
``conversion.convert_table``).

A column of few distinct texts (flags, regions, dates) is parsed on its distinct
texts alone, each once: ``rows`` then maps every row to its text, and counts weigh
each text by how many rows hold it. Its distinct values and text bounds then come from
those texts (``texts``) too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluice.inference import text_parsing as tp
from sluice.inference import time_parsing
from sluice.inference.types import INTEGER_RANGES, ColumnType, DateOrder

Parsed = tuple[pa.BooleanArray, pa.Array]


@dataclass(frozen=True)
class ColumnParse:
    """(passes, values) per type for one column of trimmed texts (see ``text_parsing``)."""

    bools: Parsed
    ints: Parsed  # int64
    floats: Parsed  # float64
    float32: pa.BooleanArray  # which texts float32 holds faithfully
    dates: dict[str, Parsed]  # per DateOrder value
    durations: Parsed
    quarters: pa.BooleanArray | None = None  # which texts are quarters (1974Q1); None: none
    rows: pa.Array | None = None  # per row, its distinct text; None: one text per row
    texts: pa.Array | None = None  # with ``rows``: the distinct texts, untrimmed

    def typed(self, column_type: ColumnType, order: DateOrder | None) -> Parsed:
        """(passes, values) of ``column_type`` per row, as conversion needs them."""
        parsed = self._typed(column_type, order)
        return parsed if self.rows is None else per_row(parsed, self.rows)

    def encoded(self) -> pa.DictionaryArray | None:
        """The column's texts as a dictionary of its distinct texts (equal to them once
        decoded), where it was parsed on those; None otherwise."""
        if self.rows is None or self.texts is None:
            return None
        return pa.DictionaryArray.from_arrays(self.rows, self.texts)

    def weights(self) -> np.ndarray | None:
        """How many rows hold each parsed text; None when each row is its own."""
        if self.rows is None:
            return None
        present = self.rows.drop_null().to_numpy(zero_copy_only=False)
        return np.bincount(present, minlength=len(self.bools[0]))

    def _typed(self, column_type: ColumnType, order: DateOrder | None) -> Parsed:
        if column_type is ColumnType.BOOL:
            return self.bools
        if column_type in INTEGER_RANGES:
            return tp.int_range_mask(self.ints[1], column_type), self.ints[1]
        if column_type in (ColumnType.FLOAT32, ColumnType.FLOAT64):
            return self.floats  # float32 rounds what it cannot hold exactly
        if column_type is ColumnType.DATETIME:
            return self.dates[(order or DateOrder.ISO).value]
        if column_type is ColumnType.TIMEDELTA:
            return self.durations
        raise ValueError(f"no parsed values for {column_type}")


def _numbers(text: pa.Array) -> tuple[Parsed, Parsed, pa.BooleanArray] | None:
    """(int64, float64, float32 passes) when every value parses natively as a number."""
    ints = tp.native_ints(text)
    if ints is not None:
        ok = pc.is_valid(ints)
        # float64 rounds some integers past 2**53: those fail it, as their texts do.
        exact = pa.array(tp.float64_passes_of_ints(ints))
        floats = pc.if_else(exact, pc.cast(ints, pa.float64(), safe=False), None)
        return (ok, ints), (exact, floats), tp.float32_passes_of_ints(ints)
    floats = tp.native_floats(text)
    if floats is None:
        return None
    # Only a whole number can be written as an integer.
    as_float = np.asarray(floats.to_numpy(zero_copy_only=False), dtype=np.float64)
    with np.errstate(invalid="ignore"):
        fractional = ~(np.floor(as_float) == as_float)
    int_parse = tp.int_values(text, trimmed=True, skip=fractional)
    float_ok, floats = tp.without_rounded_integers(text, pc.is_valid(floats), floats)
    float32 = tp.float32_passes_of_float64(text, float_ok, floats)
    return int_parse, (float_ok, floats), float32


_DISTINCT_SAMPLE = 20_000
_DISTINCT_SHARE = 0.5
"""A column is parsed on its distinct texts when they are at most this share of its rows
(first estimated on a sample: encoding costs little, but nothing when all differ)."""


def parse_column(raw: pa.Array, decimal: str = ".") -> ColumnParse:
    """Every type's reading of the texts ``raw``, trimmed first (``text_parsing.prepare``);
    numbers are written with the decimal mark ``decimal``."""
    raw = tp.contiguous(raw)
    # The number alphabets hold no whitespace: texts that pass as numbers need no trim,
    # and the look for what to trim costs as much as the numbers' own parse.
    numeric = tp.with_decimal_point(raw, decimal)
    numbers = _numbers(numeric)
    if numbers is not None:
        return _of_numbers(numeric, numbers)
    encoded = few_distinct(raw)
    if encoded is not None:
        # Trimmed, no distinct text is a number, so neither is any row's: the rows need
        # no trim of their own (two passes over a 60 MiB chunk's dates, 7 ms each).
        distinct = tp.prepare(encoded.dictionary)
        if _numbers(tp.with_decimal_point(distinct, decimal)) is None:
            parse = _of_texts(distinct, decimal)
            return replace(parse, rows=encoded.indices, texts=encoded.dictionary)
    text = tp.prepare(raw)
    if text is not raw:  # trimmed: " 12" is a number too
        numeric = tp.with_decimal_point(text, decimal)
        numbers = _numbers(numeric)
        if numbers is not None:
            return _of_numbers(numeric, numbers)
    if encoded is not None:
        parse = _of_texts(tp.prepare(encoded.dictionary), decimal)
        return replace(parse, rows=encoded.indices, texts=encoded.dictionary)
    return _of_texts(text, decimal)


def per_row(parsed: Parsed, rows: pa.Array) -> Parsed:
    """(passes, values) of distinct texts, spread to the rows that hold them (``rows``:
    each row's text, null for a null row, which passes nothing)."""
    passes, values = parsed
    return pc.fill_null(passes.take(rows), False), values.take(rows)


def few_distinct(raw: pa.Array) -> pa.DictionaryArray | None:
    """``raw`` dictionary-encoded when its distinct texts are at most ``_DISTINCT_SHARE``
    of its rows (so parsing them each once is worth it); None otherwise."""
    sample = raw.slice(0, _DISTINCT_SAMPLE)
    if len(pc.unique(sample)) > 1.5 * _DISTINCT_SHARE * len(sample):
        return None
    encoded = pc.dictionary_encode(raw)
    if len(encoded.dictionary) > _DISTINCT_SHARE * len(raw):
        return None
    return encoded


def _of_numbers(text: pa.Array, numbers: tuple[Parsed, Parsed, pa.BooleanArray]) -> ColumnParse:
    # Every value is a number, and no number is a date or a duration: skip their parsers.
    ints, floats, float32 = numbers
    nothing = pa.array(np.zeros(len(text), dtype=bool))
    no_dates = (nothing, pa.nulls(len(text), pa.timestamp("us")))
    return ColumnParse(
        bools=tp.bools_of_numbers(text),
        ints=ints,
        floats=floats,
        float32=float32,
        dates=dict.fromkeys((o.value for o in DateOrder), no_dates),
        durations=(nothing, pa.nulls(len(text), pa.duration("us"))),
    )


def _of_texts(text: pa.Array, decimal: str = ".") -> ColumnParse:
    dates, quarters = time_parsing.datetime_readings(text, trimmed=True)
    durations = time_parsing.timedelta_values(text, trimmed=True)
    # A date or a duration is never a number: the number parsers skip them.
    known = tp.np_bool(durations[0])
    for ok, _ in dates.values():
        known |= tp.np_bool(ok)
    numeric = tp.with_decimal_point(text, decimal)
    ints = tp.int_values(numeric, trimmed=True, skip=known)
    floats = tp.float_values(numeric, trimmed=True, skip=known)
    return ColumnParse(
        bools=tp.bool_mask_and_values(text, trimmed=True),
        ints=ints,
        floats=floats,
        float32=tp.float32_passes_of_float64(numeric, *floats),
        dates=dates,
        durations=durations,
        quarters=quarters,
    )
