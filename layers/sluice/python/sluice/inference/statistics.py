"""Type inference: per-chunk statistics, their merge, and the decision per column.

``chunk_stats`` looks at one chunk's texts (vectorised, see ``text_parsing``),
``merge_stats`` folds the chunks' statistics together, and ``decide`` turns the merged
statistics and a dataset's settings into a ``ColumnSchema`` per column.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluice.inference import text_parsing as tp
from sluice.inference.column_parse import ColumnParse, parse_column
from sluice.inference.schema import (
    FAILURE_KEYS,
    SAMPLES_PER_KEY,
    ChunkStats,
    ColumnSchema,
    ColumnStats,
    InferenceSettings,
    Tolerance,
)
from sluice.inference.string_bytes import StringBytes
from sluice.inference.types import (
    CATEGORY_MAX_RATIO,
    DEFAULT_NA_VALUES,
    INTEGER_RANGES,
    PREFERENCE,
    ColumnType,
    DateOrder,
)

TEXT_BOUND_CHARS = 100
"""text_min / text_max look at the first this many characters of each text."""

_DISTINCT_PROBE_PER_CATEGORY = 64
"""Distinct values are first counted on a prefix this many times max_categories + 1 long."""

_ORDER_LABELS = {DateOrder.ISO: "ISO", DateOrder.MDY: "M/D/Y", DateOrder.DMY: "D/M/Y"}

T = TypeVar("T")


def na_values_for(settings: InferenceSettings) -> list[str]:
    """The texts that mean missing: the dataset's own ``na_values`` or the defaults.

    An explicit empty list means that no text is missing (only absent cells are).
    """
    if settings.na_values is not None:
        return list(settings.na_values)
    return list(DEFAULT_NA_VALUES)


# --- chunk statistics ---------------------------------------------------------------------


def chunk_stats(table: pa.Table, max_categories: int) -> ChunkStats:
    """Statistics of one chunk whose columns are texts with NA values already null."""
    return chunk_stats_and_parses(table, max_categories)[0]


def chunk_stats_and_parses(
    table: pa.Table, max_categories: int, decimal: str = "."
) -> tuple[ChunkStats, dict[str, ColumnParse]]:
    """:func:`chunk_stats`, and each column's parse, for converting the same chunk
    (numbers written with the decimal mark ``decimal``)."""
    columns, parses = [], {}
    for i, name in enumerate(table.column_names):
        stats, parses[name] = _column_stats(name, table.column(i), max_categories, decimal)
        columns.append(stats)
    return ChunkStats(rows=table.num_rows, columns=columns), parses


def _numpy_bool(mask: pa.Array) -> np.ndarray:
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)


def _leading_zeros(
    texts: pa.Array, int_ok: pa.BooleanArray, weights: np.ndarray | None
) -> tuple[int, str | None]:
    """How many integer texts start with a 0 another digit follows (``007``), and the
    first; from the texts' first bytes, with no pass over their characters."""
    ok = _numpy_bool(int_ok)
    if not ok.any():
        return 0, None
    view = StringBytes.of(texts)
    zeros = ok & (view.first == ord("0")) & (view.lengths > 1)
    if not zeros.any():
        return 0, None
    count = int(zeros.sum() if weights is None else weights[zeros].sum())
    return count, texts[int(np.flatnonzero(zeros)[0])].as_py()


def _min_max(values: pa.Array) -> tuple[Any, Any]:
    if values.null_count == len(values):
        return None, None
    bounds = pc.min_max(values)
    return bounds["min"].as_py(), bounds["max"].as_py()


def _column_stats(
    name: str, column: pa.ChunkedArray, max_categories: int, decimal: str = "."
) -> tuple[ColumnStats, ColumnParse]:
    raw = tp.contiguous(column)
    valid = _numpy_bool(raw.is_valid())
    parse = parse_column(raw, decimal)
    stats = ColumnStats(name=name, values=int(valid.sum()), nulls=raw.null_count)
    ints, (float_ok, floats) = parse.ints[1], parse.floats
    passes: dict[str, pa.BooleanArray] = {
        "bool": parse.bools[0],
        **{t.value: mask for t, mask in tp.int_range_masks(ints).items()},
        "float32": parse.float32,
        "float64": float_ok,
        **{f"datetime:{order}": ok for order, (ok, _) in parse.dates.items()},
        "timedelta": parse.durations[0],
    }
    weights = parse.weights()
    # A type that every value fails (most of them, for a column of text) has the first
    # values as its samples: taken once, not once per type (a wide file's scan does this
    # for every one of its thousands of columns).
    first_values: list[str] | None = None
    for key in FAILURE_KEYS:
        # A value passes only if present, so failures are what is left of the values.
        if weights is None:
            stats.failures[key] = stats.values - passes[key].true_count
        else:
            stats.failures[key] = stats.values - int(weights[_numpy_bool(passes[key])].sum())
        if not stats.failures[key]:
            stats.samples[key] = []
        elif stats.failures[key] == stats.values:
            if first_values is None:
                leading = np.flatnonzero(valid)[:SAMPLES_PER_KEY]
                first_values = raw.take(pa.array(leading, type=pa.int64())).to_pylist()
            stats.samples[key] = list(first_values)
        else:
            first = _first_failures(valid, passes[key], parse.rows)
            stats.samples[key] = raw.take(pa.array(first, type=pa.int64())).to_pylist()

    if parse.quarters is not None and parse.quarters.true_count:
        quarters = _numpy_bool(parse.quarters)
        stats.quarters = int(quarters.sum() if weights is None else weights[quarters].sum())
    # A column parsed on its distinct texts has them at hand: no pass over every row.
    texts = raw if parse.texts is None else parse.texts
    stats.leading_zeros, stats.leading_zero_sample = _leading_zeros(texts, passes["int64"], weights)
    stats.distinct = _distinct(texts, max_categories)
    stats.int_min, stats.int_max = _min_max(ints)
    finite = pc.is_finite(floats)
    if finite.true_count < len(floats) - floats.null_count:  # an inf or a nan to leave out
        floats = floats.filter(finite)
    stats.float_min, stats.float_max = _min_max(floats)
    for order, (_, stamps) in parse.dates.items():
        low, high = _min_max(stamps)
        if low is not None:
            stats.datetime_min[order] = low.isoformat()
            stats.datetime_max[order] = high.isoformat()
    durations = parse.durations[1]
    stats.timedelta_min_us, stats.timedelta_max_us = _min_max(durations.cast(pa.int64()))
    stats.text_min, stats.text_max = _min_max(_text_prefixes(texts))
    return stats, parse


def _first_failures(valid: np.ndarray, passes: pa.BooleanArray, rows: pa.Array | None) -> list[int]:
    """The rows of the first ``SAMPLES_PER_KEY`` present values that fail, looking at a
    growing prefix (failures are usually many and early). ``rows``: as ``ColumnParse``'s."""
    entry_fails = None if rows is None else ~_numpy_bool(passes)
    length = 1024
    while True:
        window = min(length, len(valid))
        if rows is None or entry_fails is None:
            fails = ~_numpy_bool(passes.slice(0, window))
        else:  # a row fails when its distinct text does
            entries = pc.fill_null(rows.slice(0, window), 0).to_numpy(zero_copy_only=False)
            fails = entry_fails[entries]
        found = np.flatnonzero(valid[:window] & fails)[:SAMPLES_PER_KEY]
        if len(found) == SAMPLES_PER_KEY or window == len(valid):
            return [int(i) for i in found]
        length *= 16


def _text_prefixes(raw: pa.Array) -> pa.Array:
    """The first ``TEXT_BOUND_CHARS`` characters of each text (no copy when all are shorter)."""
    if len(raw) and StringBytes.of(raw).lengths.max() <= TEXT_BOUND_CHARS:
        return raw
    return pc.utf8_slice_codeunits(raw, 0, TEXT_BOUND_CHARS)


def _distinct(raw: pa.Array, max_categories: int) -> list[str] | None:
    """Sorted distinct non-null texts, or None when there are more than max_categories + 1."""
    limit = max_categories + 1
    # A prefix decides most columns of many values (dropping nulls first would copy them all).
    probe = raw.slice(0, _DISTINCT_PROBE_PER_CATEGORY * limit)
    if len(probe) < len(raw) and len(pc.unique(probe).drop_null()) > limit:
        return None
    unique = pc.unique(raw).drop_null()
    if len(unique) > limit:
        return None
    return sorted(unique.to_pylist())


# --- merge --------------------------------------------------------------------------------


def merge_stats(parts: list[ChunkStats], max_categories: int) -> ChunkStats:
    """Fold chunk statistics together (associative; samples keep the parts' order)."""
    if not parts:
        raise ValueError("merge_stats needs at least one ChunkStats")
    width = len(parts[0].columns)
    names = [c.name for c in parts[0].columns]
    for part in parts[1:]:
        other = [c.name for c in part.columns]
        if len(part.columns) != width or other != names:
            raise ValueError(f"chunks have different columns: {names} and {other}")
    columns = [
        _merge_columns([part.columns[i] for part in parts], max_categories) for i in range(width)
    ]
    return ChunkStats(rows=sum(part.rows for part in parts), columns=columns)


def _pick(
    items: Iterable[T | None], choose: Callable[..., T], key: Callable[[T], Any] | None = None
) -> T | None:
    present = [item for item in items if item is not None]
    if not present:
        return None
    return choose(present, key=key) if key is not None else choose(present)


def _merge_columns(columns: list[ColumnStats], max_categories: int) -> ColumnStats:
    merged = ColumnStats(
        name=columns[0].name,
        values=sum(c.values for c in columns),
        nulls=sum(c.nulls for c in columns),
    )
    keys = list(dict.fromkeys(k for c in columns for k in c.failures))
    merged.failures = {k: sum(c.failures.get(k, 0) for c in columns) for k in keys}
    sample_keys = list(dict.fromkeys(k for c in columns for k in c.samples))
    merged.samples = {
        k: [s for c in columns for s in c.samples.get(k, [])][:SAMPLES_PER_KEY] for k in sample_keys
    }
    distinct_lists = [c.distinct for c in columns]
    if any(d is None for d in distinct_lists):
        merged.distinct = None
    else:
        union = sorted({value for d in distinct_lists for value in d or []})
        merged.distinct = union if len(union) <= max_categories + 1 else None
    merged.int_min = _pick((c.int_min for c in columns), min)
    merged.int_max = _pick((c.int_max for c in columns), max)
    merged.float_min = _pick((c.float_min for c in columns), min)
    merged.float_max = _pick((c.float_max for c in columns), max)
    orders = list(dict.fromkeys(k for c in columns for k in c.datetime_min))
    for order in orders:
        low = _pick((c.datetime_min.get(order) for c in columns), min, datetime.fromisoformat)
        high = _pick((c.datetime_max.get(order) for c in columns), max, datetime.fromisoformat)
        if low is not None and high is not None:
            merged.datetime_min[order], merged.datetime_max[order] = low, high
    merged.quarters = sum(c.quarters for c in columns)
    merged.leading_zeros = sum(c.leading_zeros for c in columns)
    merged.leading_zero_sample = next(
        (c.leading_zero_sample for c in columns if c.leading_zero_sample), None
    )
    merged.timedelta_min_us = _pick((c.timedelta_min_us for c in columns), min)
    merged.timedelta_max_us = _pick((c.timedelta_max_us for c in columns), max)
    merged.text_min = _pick((c.text_min for c in columns), min)
    merged.text_max = _pick((c.text_max for c in columns), max)
    return merged


# --- decision -----------------------------------------------------------------------------


def allowed_failures(tolerance: Tolerance, column_type: ColumnType, values: int) -> int:
    """How many of a column's ``values`` may fail ``column_type`` and it still win.

    A number >= 1 is a count (fractional counts round down); 0 <= x < 1 is a fraction of the
    non-null values, rounded down; a map gives either per type (types absent from it: 0).
    """
    amount = tolerance.get(column_type, 0) if isinstance(tolerance, dict) else tolerance
    if amount <= 0:
        return 0
    if amount < 1:
        return math.floor(amount * values)
    return math.floor(amount)


_DATE_KEYS = tuple(f"datetime:{order.value}" for order in DateOrder)


def _failures_of(stats: ColumnStats, column_type: ColumnType) -> int:
    # Called for each type of each column: iterating over an Enum here cost a wide file's
    # Decide more than all its other work.
    if column_type is ColumnType.DATETIME:
        return min(stats.failures.get(key, stats.values) for key in _DATE_KEYS)
    return stats.failures.get(column_type.value, stats.values)


def _is_candidate(stats: ColumnStats, column_type: ColumnType, settings: InferenceSettings) -> bool:
    if column_type is ColumnType.STRING:
        return True
    if column_type is ColumnType.CATEGORY:
        distinct = stats.distinct
        return (
            distinct is not None
            and len(distinct) <= settings.max_categories
            and len(distinct) / stats.values <= CATEGORY_MAX_RATIO
        )
    failures = _failures_of(stats, column_type)
    allowed = allowed_failures(settings.tolerance, column_type, stats.values)
    # A type that no value passes never wins, however large the tolerance.
    return failures <= allowed and failures < stats.values


def _fail_counts(winner: int, loser: int) -> tuple[str, str]:
    """("0 values fail it", "412 do"), singular where a count is 1."""
    first = "1 value fails it" if winner == 1 else f"{winner} values fail it"
    return first, ("1 does" if loser == 1 else f"{loser} do")


def _date_order(stats: ColumnStats) -> tuple[DateOrder, list[str]]:
    """The date order with the fewest failures (ties: ISO, then M/D/Y) and why."""
    failures = {o: stats.failures.get(f"datetime:{o.value}", stats.values) for o in DateOrder}
    best = min(DateOrder, key=lambda o: failures[o])  # DateOrder lists ISO, MDY, DMY
    notes: list[str] = []
    mdy, dmy = failures[DateOrder.MDY], failures[DateOrder.DMY]
    if best is not DateOrder.ISO:
        if mdy == dmy:
            notes.append("dates fit both M/D/Y and D/M/Y; chose M/D/Y")
        else:
            loser = DateOrder.DMY if best is DateOrder.MDY else DateOrder.MDY
            won, lost = _fail_counts(failures[best], failures[loser])
            notes.append(f"{_ORDER_LABELS[best]}: {won}, {_ORDER_LABELS[loser]}: {lost}")
    return best, notes


def _float32_rounding(stats: ColumnStats) -> list[str]:
    """A note when a (preferred) float32 column rounds numbers it cannot hold exactly."""
    inexact = stats.failures.get("float32", 0) - stats.failures.get("float64", 0)
    if inexact <= 0:
        return []
    others = set(stats.samples.get("float64", []))
    samples = [s for s in stats.samples.get("float32", []) if s not in others]
    example = f" (e.g. {samples[0]!r})" if samples else ""
    return [f"float32 rounds {inexact} numbers it cannot hold exactly{example}"]


FLOAT_TYPES = (ColumnType.FLOAT32, ColumnType.FLOAT64)


def _leading_zeros_note(column: ColumnStats, effective: ColumnType) -> str:
    """Integers written with leading zeros (zip codes, ids) lose them as numbers: say so,
    and how to keep them."""
    counted = "1 value is" if column.leading_zeros == 1 else f"{column.leading_zeros} values are"
    example = f" (e.g. {column.leading_zero_sample!r})" if column.leading_zero_sample else ""
    return (
        f"{counted} written with leading zeros{example}, which {effective.value} drops: "
        "prefer string to keep them"
    )


def _quarters_note(quarters: int) -> str:
    counted = "1 value is a quarter" if quarters == 1 else f"{quarters} values are quarters"
    return f"{counted} (like 1974Q1), read as the quarter's first day (1974-01-01)"


def _bounds(
    stats: ColumnStats, column_type: ColumnType, order: DateOrder | None
) -> tuple[Any, Any]:
    """min and max in the JSON form of ``column_type``."""
    if column_type in INTEGER_RANGES:
        return stats.int_min, stats.int_max
    if column_type in (ColumnType.FLOAT32, ColumnType.FLOAT64):
        return stats.float_min, stats.float_max
    if column_type is ColumnType.DATETIME and order is not None:
        return stats.datetime_min.get(order.value), stats.datetime_max.get(order.value)
    if column_type is ColumnType.TIMEDELTA:
        low, high = stats.timedelta_min_us, stats.timedelta_max_us
        return (
            None if low is None else low / 1_000_000,
            None if high is None else high / 1_000_000,
        )
    if column_type in (ColumnType.STRING, ColumnType.CATEGORY):
        return stats.text_min, stats.text_max
    return None, None


def decide(
    stats: ChunkStats,
    settings: InferenceSettings,
    preferred: dict[str, ColumnType] | None = None,
) -> list[ColumnSchema]:
    """One ``ColumnSchema`` per column: the inferred type, the preferred one and the effective."""
    hints = preferred or settings.column_types
    schemas = []
    for column in stats.columns:
        inferred = ColumnType.STRING
        if column.values > 0:
            inferred = next(t for t in PREFERENCE if _is_candidate(column, t, settings))
        preferred_type = hints.get(column.name)
        effective = preferred_type or inferred
        order: DateOrder | None = None
        notes: list[str] = []
        if ColumnType.DATETIME in (inferred, effective) and column.values > 0:
            order, notes = _date_order(column)
            if column.quarters:
                notes.append(_quarters_note(column.quarters))
        if effective is ColumnType.FLOAT32:
            notes.extend(_float32_rounding(column))
        if column.leading_zeros and (effective in INTEGER_RANGES or effective in FLOAT_TYPES):
            notes.append(_leading_zeros_note(column, effective))
        low, high = _bounds(column, effective, order)
        schemas.append(
            ColumnSchema(
                name=column.name,
                inferred_type=inferred,
                preferred_type=preferred_type,
                effective_type=effective,
                date_order=order,
                null_count=column.nulls,
                failures=dict(column.failures),
                samples={k: list(v) for k, v in column.samples.items()},
                categories=list(column.distinct)
                if effective is ColumnType.CATEGORY and column.distinct is not None
                else None,
                min=low,
                max=high,
                notes=notes,
            )
        )
    return schemas
