"""Vectorised "does this text parse as X" masks and the parsers behind them.

Every public function takes an Arrow array of texts (``string`` or ``large_string``, an
``Array`` or a ``ChunkedArray``; nulls are missing values) and returns ``(passes, values)``:

- ``passes``: a ``pa.BooleanArray`` of the same length, True where the text parses, False
  where it does not and where it is null (never null itself);
- ``values``: the parsed values as a typed ``pa.Array``, null wherever ``passes`` is False.

Texts are compared with surrounding whitespace trimmed. Pass ``trimmed=True`` when the texts
are already trimmed (see :func:`prepare`) to skip that step. Inference counts failures with
these masks and conversion uses the values, so both agree on what each type accepts.

What each type accepts:

- bool: ``types.TRUE_TEXTS`` / ``types.FALSE_TEXTS``, case-insensitive.
- int: an optional sign and ASCII digits (leading zeros allowed, no separators, no
  exponent), within int64; :func:`int_range_mask` narrows to int8/int16/int32.
- float64: decimal or scientific notation with an optional sign (``1``, ``-1.5``, ``.5``,
  ``5.``, ``1e-3``, ``+2.5E+10``), or ``inf`` / ``infinity`` / ``nan`` with an optional sign,
  any case. A finite text too large for float64 (``1e999``) parses as +-inf, as Python does.
- float32 (:func:`float32_values`): passes float64, and either is an inf/nan word, or has at
  most 7 significant digits (the mantissa's digits, decimal point removed, leading and
  trailing zeros stripped: ``1.500`` has 2, ``1230000`` has 3, ``16777217`` has 8) and a
  magnitude that is 0 or within ``[1.17549435e-38, 3.4028235e38]`` (float32's normal range).
- datetime (:func:`datetime_values`): matches one of ``types.date_formats(order)``, with the
  year written with 4 digits; ISO (year-first) values with a time may also carry fractional
  seconds (up to 9 digits, kept to the microsecond, truncated) and a trailing ``Z`` or
  ``+HH:MM`` / ``+HHMM`` / ``+HH`` offset, which is applied: the value becomes UTC.
- timedelta (:func:`timedelta_values`): ``[-]H:MM:SS[.f]`` (hours of any length),
  ``N day[s][,] [+-]H:MM:SS[.f]`` (pandas' and Python's ``str`` of a timedelta, e.g.
  ``-1 days +23:59:59``, ``1 day, 2:03:04.5``) and ISO 8601 durations without years or months
  (``P2W``, ``P1DT2H3M4.5S``, ``PT15M``, ``-PT1S``). Bare numbers are not timedeltas.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluice.tables.types import (
    FALSE_TEXTS,
    INTEGER_RANGES,
    TRUE_TEXTS,
    ColumnType,
    DateOrder,
    date_formats,
)

TextArray = pa.Array | pa.ChunkedArray
Parsed = tuple[pa.BooleanArray, pa.Array]

INT64_MAX_DIGITS = str(2**63 - 1)
INT64_MIN_DIGITS = str(2**63)
FLOAT32_MAX = 3.4028235e38
FLOAT32_MIN_NORMAL = 1.17549435e-38
FLOAT32_SIGNIFICANT_DIGITS = 7
MIN_TIMESTAMP_US = -62_135_596_800_000_000  # 0001-01-01T00:00:00
US_PER_SECOND = 1_000_000

_INT_RE = r"^[+-]?\d+$"
_FLOAT_RE = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_FLOAT_WORD_RE = r"(?i)^[+-]?(?:inf|infinity|nan)$"
_TIME_RE = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2})?)?"
_FAMILY_RE: dict[str, str] = {
    "iso": r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}" + _TIME_RE + "$",
    "mdy": r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}" + _TIME_RE + "$",
    "dmy": r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}" + _TIME_RE + "$",
}
_ISO_EXTRA_RE = (
    r"^(?P<base>\d{4}[-/]\d{1,2}[-/]\d{1,2}[T ]\d{1,2}:\d{2}(?::\d{2})?)"
    r"(?P<frac>\.\d{1,9})?(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_TZ_RE = r"^(?P<sign>[+-])(?P<hh>\d{2}):?(?P<mm>\d{2})?$"
_CLOCK_RE = (
    r"^(?:(?P<days>[+-]?\d{1,9}) days?,? ?)?(?P<sign>[+-])?(?P<h>\d{1,12}):(?P<m>[0-5]\d)"
    r":(?P<s>[0-5]\d)(?P<frac>\.\d{1,9})?$"
)
_ISO_DURATION_RE = (
    r"^(?P<sign>[+-])?P(?:(?P<w>\d{1,9})W)?(?:(?P<d>\d{1,9})D)?"
    r"(?P<t>T(?:(?P<h>\d{1,12})H)?(?:(?P<m>\d{1,12})M)?(?:(?P<s>\d{1,12})(?P<frac>[.,]\d{1,9})?S)?)?$"
)


def prepare(arr: TextArray) -> pa.Array:
    """One contiguous string array with surrounding whitespace trimmed."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.string())
    return pc.utf8_trim_whitespace(arr)


def _text(arr: TextArray, trimmed: bool) -> pa.Array:
    if trimmed and isinstance(arr, pa.Array):
        return arr
    return prepare(arr)


def _false_nulls(mask: Any) -> pa.BooleanArray:
    return pc.fill_null(mask, False)


def _null_unless(mask: pa.BooleanArray, values: pa.Array) -> pa.Array:
    return pc.if_else(mask, values, pa.scalar(None, values.type))


def bool_mask_and_values(arr: TextArray, *, trimmed: bool = False) -> Parsed:
    """True/false words (``types.TRUE_TEXTS`` / ``FALSE_TEXTS``), any case."""
    lower = pc.utf8_lower(_text(arr, trimmed))
    is_true = _false_nulls(pc.is_in(lower, value_set=pa.array(TRUE_TEXTS)))
    is_false = _false_nulls(pc.is_in(lower, value_set=pa.array(FALSE_TEXTS)))
    passes = pc.or_(is_true, is_false)
    return passes, _null_unless(passes, is_true)


def int_values(arr: TextArray, *, trimmed: bool = False) -> Parsed:
    """Optional sign and digits within int64 -> int64 values."""
    text = _text(arr, trimmed)
    shape = _false_nulls(pc.match_substring_regex(text, _INT_RE))
    digits = pc.replace_substring_regex(text, r"^[+-]?0*", "")
    length = pc.binary_length(digits)
    negative = pc.starts_with(text, "-")
    at_bound = pc.and_(
        pc.equal(length, 19),
        pc.if_else(
            negative,
            pc.less_equal(digits, INT64_MIN_DIGITS),
            pc.less_equal(digits, INT64_MAX_DIGITS),
        ),
    )
    passes = _false_nulls(pc.and_(shape, pc.or_(pc.less(length, 19), at_bound)))
    unsigned_plus = pc.replace_substring_regex(text, r"^\+", "")
    values = pc.cast(_null_unless(passes, unsigned_plus), pa.int64())
    return passes, values


def int_range_mask(values: pa.Array, column_type: ColumnType) -> pa.BooleanArray:
    """Where int64 ``values`` fit ``column_type`` (int8 ... int64); False where null."""
    low, high = INTEGER_RANGES[column_type]
    inside = pc.and_(pc.greater_equal(values, low), pc.less_equal(values, high))
    return _false_nulls(inside)


def float_values(arr: TextArray, *, trimmed: bool = False) -> Parsed:
    """Decimal / scientific numbers and inf/nan words -> float64 values."""
    text = _text(arr, trimmed)
    numeric = pc.match_substring_regex(text, _FLOAT_RE)
    words = pc.match_substring_regex(text, _FLOAT_WORD_RE)
    passes = _false_nulls(pc.or_(numeric, words))
    values = pc.cast(_null_unless(passes, text), pa.float64())
    return passes, values


def float32_values(arr: TextArray, *, trimmed: bool = False) -> Parsed:
    """Texts that float32 holds faithfully (see the module docstring) -> float32 values."""
    text = _text(arr, trimmed)
    passes64, values64 = float_values(text, trimmed=True)
    words = _false_nulls(pc.match_substring_regex(text, _FLOAT_WORD_RE))
    mantissa = pc.replace_substring_regex(text, r"[eE].*$|[+\-.]", "")
    significant = pc.replace_substring_regex(mantissa, r"^0+|0+$", "")
    few_digits = pc.less_equal(pc.binary_length(significant), FLOAT32_SIGNIFICANT_DIGITS)
    magnitude = pc.abs(values64)
    in_range = pc.or_(
        pc.equal(magnitude, 0.0),
        pc.and_(
            pc.greater_equal(magnitude, FLOAT32_MIN_NORMAL),
            pc.less_equal(magnitude, FLOAT32_MAX),
        ),
    )
    numeric_ok = _false_nulls(pc.and_(few_digits, in_range))
    passes = pc.and_(passes64, pc.or_(words, numeric_ok))
    return passes, pc.cast(_null_unless(passes, values64), pa.float32())


# --- datetime ---------------------------------------------------------------------------


def _strptime_any(texts: pa.Array, formats: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Parse ``texts`` with the first of ``formats`` that fits each: (ok, microseconds)."""
    n = len(texts)
    ok = np.zeros(n, dtype=bool)
    us = np.zeros(n, dtype=np.int64)
    remaining = np.arange(n)
    for fmt in formats:
        if remaining.size == 0:
            break
        subset = texts.take(pa.array(remaining))
        parsed = pc.strptime(subset, format=fmt, unit="us", error_is_null=True)
        hit = np.asarray(parsed.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        if hit.any():
            chosen = remaining[hit]
            parsed_us = pc.fill_null(parsed.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
            us[chosen] = parsed_us[hit]
            ok[chosen] = True
            remaining = remaining[~hit]
    return ok, us


def _int_column(table: pa.StructArray, name: str) -> np.ndarray:
    """A group of an extract_regex result as int64 (empty or null -> 0)."""
    field = pc.struct_field(table, name)
    cleaned = pc.if_else(pc.equal(field, ""), "0", field)
    filled = pc.fill_null(pc.cast(cleaned, pa.int64()), 0)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=np.int64)


def _fraction_us(table: pa.StructArray, name: str) -> np.ndarray:
    """A '.123' / ',5' group as microseconds, truncated; empty -> 0."""
    field = pc.fill_null(pc.struct_field(table, name), "")
    digits = pc.utf8_slice_codeunits(pc.replace_substring_regex(field, r"^[.,]", ""), 0, 6)
    length = np.asarray(pc.binary_length(digits).to_numpy(zero_copy_only=False), dtype=np.int64)
    cleaned = pc.if_else(pc.equal(digits, ""), "0", digits)
    number = np.asarray(pc.cast(cleaned, pa.int64()).to_numpy(zero_copy_only=False))
    return np.asarray(number * 10 ** (6 - length), dtype=np.int64)


def _iso_extras(text: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Split ISO fractions and offsets off: (base texts, ok mask, microseconds to add)."""
    n = len(text)
    ok = np.ones(n, dtype=bool)
    shift = np.zeros(n, dtype=np.int64)
    marked = _false_nulls(pc.match_substring_regex(text, r"[T ]\d{1,2}:\d{2}.*[.Z+-]"))
    rows = np.flatnonzero(np.asarray(marked.to_numpy(zero_copy_only=False), dtype=bool))
    if rows.size == 0:
        return text, ok, shift
    parts = pc.extract_regex(text.take(pa.array(rows)), _ISO_EXTRA_RE)
    matched = np.asarray(parts.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    frac = pc.fill_null(pc.struct_field(parts, "frac"), "")
    base_part = pc.fill_null(pc.struct_field(parts, "base"), "")
    has_seconds = pc.match_substring_regex(base_part, r":\d{2}:\d{2}$")
    frac_ok = pc.or_(pc.equal(frac, ""), has_seconds).to_numpy(zero_copy_only=False)
    tz_parts = pc.extract_regex(pc.fill_null(pc.struct_field(parts, "tz"), ""), _TZ_RE)
    sign = np.where(pc.equal(pc.struct_field(tz_parts, "sign"), "-").to_numpy(False), -1, 1)
    hh, mm = _int_column(tz_parts, "hh"), _int_column(tz_parts, "mm")
    tz_ok = (hh <= 23) & (mm <= 59)
    offset_us = sign * (hh * 3600 + mm * 60) * US_PER_SECOND
    shift[rows] = _fraction_us(parts, "frac") - offset_us
    ok[rows] = matched & np.asarray(frac_ok, dtype=bool) & tz_ok
    scattered = _scatter_text(base_part, rows, matched, n)
    return pc.if_else(scattered.is_valid(), scattered, text), ok, shift


def _scatter_text(values: pa.Array, rows: np.ndarray, matched: np.ndarray, n: int) -> pa.Array:
    """An n-long text array holding ``values[i]`` at ``rows[i]`` where matched, else null."""
    positions = np.full(n, -1, dtype=np.int64)
    positions[rows[matched]] = np.flatnonzero(matched)
    take_index = pa.array(positions, mask=positions < 0)
    return values.take(take_index)


def _datetime_families(text: pa.Array, families: Sequence[str]) -> dict[str, Parsed]:
    """The ISO family parsed once, other families parsed on what ISO left: family -> result."""
    base, extra_ok, shift = _iso_extras(text)
    n = len(text)
    results: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for family in families:
        shape = _false_nulls(pc.match_substring_regex(base, _FAMILY_RE[family]))
        rows = np.flatnonzero(np.asarray(shape.to_numpy(zero_copy_only=False), dtype=bool))
        # Year-first formats belong to the ISO family, parsed once and shared by every order.
        formats = [
            f for f in date_formats(DateOrder(family)) if (family == "iso") == f.startswith("%Y")
        ]
        ok, us = np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64)
        if rows.size:
            sub_ok, sub_us = _strptime_any(base.take(pa.array(rows)), formats)
            ok[rows], us[rows] = sub_ok, sub_us
        us = us + shift
        ok &= extra_ok & (us >= MIN_TIMESTAMP_US)
        results[family] = (ok, us)
    out: dict[str, Parsed] = {}
    iso_ok, iso_us = results["iso"]
    for family, (ok, us) in results.items():
        all_ok = ok | iso_ok if family != "iso" else ok
        all_us = np.where(ok, us, iso_us) if family != "iso" else us
        passes = pa.array(all_ok)
        values = pa.array(all_us, type=pa.int64(), mask=~all_ok).cast(pa.timestamp("us"))
        out[family] = (passes, values)
    return out


def datetime_values(arr: TextArray, order: DateOrder, *, trimmed: bool = False) -> Parsed:
    """Dates (with an optional time) of ``order`` -> timestamp[us] values (UTC if offset)."""
    text = _text(arr, trimmed)
    families = ["iso"] if order is DateOrder.ISO else ["iso", order.value]
    return _datetime_families(text, families)[order.value]


def datetime_values_all_orders(arr: TextArray, *, trimmed: bool = False) -> dict[str, Parsed]:
    """:func:`datetime_values` for every ``DateOrder`` at once, keyed by its value."""
    return _datetime_families(_text(arr, trimmed), [o.value for o in DateOrder])


# --- timedelta --------------------------------------------------------------------------


def timedelta_values(arr: TextArray, *, trimmed: bool = False) -> Parsed:
    """Clock, day-clock and ISO 8601 duration texts -> duration[us] values."""
    text = _text(arr, trimmed)
    n = len(text)
    ok = np.zeros(n, dtype=bool)
    us = np.zeros(n, dtype=np.int64)
    for pattern, compute in ((_CLOCK_RE, _clock_us), (_ISO_DURATION_RE, _iso_duration_us)):
        shape = _false_nulls(pc.match_substring_regex(text, pattern))
        rows = np.flatnonzero(np.asarray(shape.to_numpy(zero_copy_only=False), dtype=bool))
        if rows.size == 0:
            continue
        parts = pc.extract_regex(text.take(pa.array(rows)), pattern)
        sub_ok, sub_us = compute(parts)
        ok[rows], us[rows] = sub_ok, sub_us
    values = pa.array(us, type=pa.int64(), mask=~ok).cast(pa.duration("us"))
    return pa.array(ok), values


def _exact_total(seconds: list[np.ndarray], weights: list[int], frac_us: np.ndarray) -> Any:
    """sum(seconds * weights) * 1e6 + frac_us, with a flag where it does not fit int64."""
    approx = sum(s.astype(np.float64) * w for s, w in zip(seconds, weights, strict=True))
    fits = np.abs(approx * US_PER_SECOND) < 9.0e18
    exact = sum(s * w for s, w in zip(seconds, weights, strict=True)) * US_PER_SECOND + frac_us
    return fits, np.asarray(exact, dtype=np.int64)


def _clock_us(parts: pa.StructArray) -> tuple[np.ndarray, np.ndarray]:
    days = _int_column(parts, "days")
    sign = np.where(pc.equal(pc.struct_field(parts, "sign"), "-").to_numpy(False), -1, 1)
    h, m, s = (_int_column(parts, g) for g in ("h", "m", "s"))
    fits, clock = _exact_total([h, m, s], [3600, 60, 1], _fraction_us(parts, "frac"))
    day_fits, day_us = _exact_total([days], [86400], np.zeros_like(days))
    return fits & day_fits, day_us + sign * clock


def _iso_duration_us(parts: pa.StructArray) -> tuple[np.ndarray, np.ndarray]:
    groups = ("w", "d", "h", "m", "s", "frac")
    present = np.zeros(len(parts), dtype=bool)
    for g in groups:
        field = pc.fill_null(pc.struct_field(parts, g), "")
        present |= np.asarray(pc.not_equal(field, "").to_numpy(zero_copy_only=False), dtype=bool)
    t = pc.fill_null(pc.struct_field(parts, "t"), "")
    bare_t = np.asarray(pc.equal(t, "T").to_numpy(zero_copy_only=False), dtype=bool)
    sign = np.where(pc.equal(pc.struct_field(parts, "sign"), "-").to_numpy(False), -1, 1)
    values = [_int_column(parts, g) for g in ("w", "d", "h", "m", "s")]
    fits, total = _exact_total(values, [604800, 86400, 3600, 60, 1], _fraction_us(parts, "frac"))
    return present & ~bare_t & fits, sign * total
