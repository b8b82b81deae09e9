"""Vectorised "does this text parse as a datetime / a timedelta" masks and their parsers.

The same contract as ``text_parsing`` (``(passes, values)``, texts trimmed, nulls are
missing), whose docstring says what each type accepts. Ten-byte dates are parsed with
numpy (``fixed_dates``); what is left goes through Arrow's strptime, a format at a time,
and what no numeric date fits is offered to ``named_dates`` (month names, quarters).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluice.inference import named_dates
from sluice.inference.fixed_dates import parse_fixed_dates
from sluice.inference.string_bytes import DIGITS, SIGNS, StringBytes
from sluice.inference.text_parsing import Parsed, TextArray, as_text, np_bool, np_int, on_rows
from sluice.inference.types import DateOrder, date_formats

MIN_TIMESTAMP_US = -62_135_596_800_000_000  # 0001-01-01T00:00:00
US_PER_SECOND = 1_000_000

_TIME_RE = r"(?:[T ]\d{1,2}:[0-5]\d(?::[0-5]\d)?(?: ?[AaPp][Mm])?)?"
_FAMILY_RE: dict[str, str] = {
    "iso": r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}" + _TIME_RE + "$",
    "mdy": r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}" + _TIME_RE + "$",
    "dmy": r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}" + _TIME_RE + "$",
}
_FORMAT_SAMPLE = 256
_DATE_LIKE_RE = r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}"
_DAY_RE: dict[str, str] = {
    "iso": r"^\d{4}[-/]\d{1,2}[-/](?P<day>\d{1,2})",
    "mdy": r"^\d{1,2}[-/.](?P<day>\d{1,2})",
    "dmy": r"^(?P<day>\d{1,2})",
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
_DURATION_LIKE_RE = r"^[+-]?(?:\d+(?::| day)|P)"
_ISO_DURATION_RE = (
    r"^(?P<sign>[+-])?P(?:(?P<w>\d{1,9})W)?(?:(?P<d>\d{1,9})D)?"
    r"(?P<t>T(?:(?P<h>\d{1,12})H)?(?:(?P<m>\d{1,12})M)?(?:(?P<s>\d{1,12})(?P<frac>[.,]\d{1,9})?S)?)?$"
)


# --- datetime ---------------------------------------------------------------------------


def _strptime(texts: pa.Array, fmt: str) -> pa.Array:
    return pc.strptime(texts, format=fmt, unit="us", error_is_null=True)


def _strptime_any(texts: pa.Array, formats: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Parse ``texts`` with the first of ``formats`` that fits each: (ok, microseconds).

    The formats are tried on what earlier ones left, the most common ones on a sample first
    (at most one format fits a text, so the order changes only the speed).
    """
    n = len(texts)
    ok = np.zeros(n, dtype=bool)
    us = np.zeros(n, dtype=np.int64)
    sample = texts.slice(0, _FORMAT_SAMPLE)
    hits = [-_strptime(sample, fmt).is_valid().true_count for fmt in formats]
    ranked = [fmt for _, _, fmt in sorted(zip(hits, range(len(formats)), formats, strict=True))]
    remaining = np.arange(n)
    for fmt in ranked:
        if remaining.size == 0:
            break
        parsed = _strptime(texts.take(pa.array(remaining)), fmt)
        hit = np_bool(parsed.is_valid())
        if hit.any():
            us[remaining[hit]] = np_int(parsed.cast(pa.int64()))[hit]
            ok[remaining[hit]] = True
            remaining = remaining[~hit]
    return ok, us


def _same_day(texts: pa.Array, ok: np.ndarray, us: np.ndarray, family: str) -> np.ndarray:
    """False where strptime rolled an impossible day over (2024-02-30 read as March 1st)."""
    read = np_int(pc.day(pa.array(us, type=pa.int64()).cast(pa.timestamp("us"))))
    same = np.ones(len(us), dtype=bool)
    rows = np.flatnonzero(ok & (read <= 3))  # a roll-over lands on day 1, 2 or 3
    if rows.size:
        written = _int_column(pc.extract_regex(texts.take(pa.array(rows)), _DAY_RE[family]), "day")
        same[rows] = written == read[rows]
    return same


def _int_column(table: pa.StructArray, name: str) -> np.ndarray:
    """A group of an extract_regex result as int64 (empty or null -> 0)."""
    field = pc.struct_field(table, name)
    cleaned = pc.if_else(pc.equal(field, ""), "0", field)
    filled = pc.fill_null(pc.cast(cleaned, pa.int64()), 0)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=np.int64)


def _fraction_us(table: pa.StructArray, name: str) -> np.ndarray:
    """A '.123' / ',5' group as microseconds, truncated; empty -> 0."""
    field = pc.fill_null(pc.struct_field(table, name), "")
    digits = pc.utf8_slice_codeunits(field, 1, 7)  # past the '.' or ','; to microseconds
    length = np.asarray(pc.binary_length(digits).to_numpy(zero_copy_only=False), dtype=np.int64)
    cleaned = pc.if_else(pc.equal(digits, ""), "0", digits)
    number = np.asarray(pc.cast(cleaned, pa.int64()).to_numpy(zero_copy_only=False))
    return np.asarray(number * 10 ** (6 - length), dtype=np.int64)


def _iso_extras(text: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Split ISO fractions and offsets off: (base texts, ok mask, microseconds to add).

    Texts that do not look like an ISO date with a time keep their text and are judged by
    strptime alone.
    """
    n = len(text)
    ok = np.ones(n, dtype=bool)
    shift = np.zeros(n, dtype=np.int64)
    parts = pc.extract_regex(text, _ISO_EXTRA_RE)
    rows = np.flatnonzero(np_bool(parts.is_valid()))
    if rows.size == 0:
        return text, ok, shift
    base = pc.coalesce(pc.struct_field(parts, "base"), text)
    parts = parts.take(pa.array(rows))
    frac = pc.struct_field(parts, "frac")
    has_seconds = pc.match_substring_regex(pc.struct_field(parts, "base"), r":\d{2}:\d{2}$")
    frac_ok = np_bool(pc.or_(pc.equal(frac, ""), has_seconds))
    tz_parts = pc.extract_regex(pc.struct_field(parts, "tz"), _TZ_RE)
    sign = np.where(np_bool(pc.equal(pc.struct_field(tz_parts, "sign"), "-")), -1, 1)
    hh, mm = _int_column(tz_parts, "hh"), _int_column(tz_parts, "mm")
    offset_us = sign * (hh * 3600 + mm * 60) * US_PER_SECOND
    shift[rows] = _fraction_us(parts, "frac") - offset_us
    ok[rows] = frac_ok & (hh <= 23) & (mm <= 59)
    return base, ok, shift


_DATE_SHORTEST = 8
"""The shortest date sluice reads: a four-digit year and two one-digit numbers (1/2/2024)."""


def _datetime_families(
    text: pa.Array, families: Sequence[str]
) -> tuple[dict[str, Parsed], pa.BooleanArray]:
    """Each family's result, where a non-ISO family also accepts what ISO accepts (and
    month-name dates and quarters), and which values are quarters."""
    n = len(text)
    view = StringBytes.of(text)
    candidates = np.flatnonzero(DIGITS[view.first] & (view.lengths >= _DATE_SHORTEST))
    found = {family: (np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64)) for family in families}
    # Ten-byte dates first, with numpy; strptime only sees what is left.
    fixed = parse_fixed_dates(view, candidates)
    year_last = {
        "mdy": (fixed.first_ok, fixed.first_us),
        "dmy": (fixed.day_first_ok, fixed.day_first_us),
    }
    for family, (ok, us) in found.items():
        if family == "iso":
            ok[fixed.handled], us[fixed.handled] = fixed.iso_ok, fixed.iso_us
        else:
            other_ok, other_us = year_last[family]
            ok[fixed.handled] = other_ok | fixed.iso_ok
            us[fixed.handled] = np.where(other_ok, other_us, fixed.iso_us)
    rest = np.setdiff1d(candidates, fixed.handled, assume_unique=True)
    rest = rest[on_rows(text, rest, lambda t: pc.match_substring_regex(t, _DATE_LIKE_RE))[rest]]
    if rest.size:
        dense = _datetime_dense(text.take(pa.array(rest)), families)
        for family, (ok, us) in found.items():
            ok[rest], us[rest] = dense[family]
    # A month name or a quarter fits every family; only what no numeric date fits is looked at.
    unread = ~np.logical_or.reduce([ok for ok, _ in found.values()])
    named = named_dates.parse_named_dates(
        text, named_dates.candidates(view, np.flatnonzero(unread))
    )
    for ok, us in found.values():
        ok[named.rows], us[named.rows] = True, named.us
    quarters = np.zeros(n, dtype=bool)
    quarters[named.rows[named.quarter]] = True
    out: dict[str, Parsed] = {}
    for family, (ok, us) in found.items():
        values = pa.array(us, type=pa.int64(), mask=~ok).cast(pa.timestamp("us"))
        out[family] = (pa.array(ok), values)
    return out, pa.array(quarters)


def _datetime_dense(text: pa.Array, families: Sequence[str]) -> dict[str, tuple[Any, Any]]:
    """(ok, microseconds) per family over date-like texts; ISO parsed once and shared."""
    base, extra_ok, shift = _iso_extras(text)
    n = len(text)
    shapes: dict[str, np.ndarray] = {}
    results: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for family in families:
        pattern = _FAMILY_RE[family]
        if pattern not in shapes:
            shapes[pattern] = np_bool(pc.match_substring_regex(base, pattern))
        rows = np.flatnonzero(shapes[pattern])
        # Year-first formats belong to the ISO family, parsed once and shared by every order.
        formats = [
            f for f in date_formats(DateOrder(family)) if (family == "iso") == f.startswith("%Y")
        ]
        ok, us = np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64)
        if rows.size:
            subset = base.take(pa.array(rows))
            sub_ok, sub_us = _strptime_any(subset, formats)
            ok[rows], us[rows] = sub_ok & _same_day(subset, sub_ok, sub_us, family), sub_us
        us = us + shift
        ok &= extra_ok & (us >= MIN_TIMESTAMP_US)
        results[family] = (ok, us)
    iso_ok, iso_us = results["iso"]
    return {
        family: (ok | iso_ok, np.where(ok, us, iso_us)) if family != "iso" else (ok, us)
        for family, (ok, us) in results.items()
    }


def datetime_values(arr: TextArray, order: DateOrder, *, trimmed: bool = False) -> Parsed:
    """Dates (with an optional time) of ``order`` -> timestamp[us] values (UTC if offset)."""
    text = as_text(arr, trimmed)
    families = ["iso"] if order is DateOrder.ISO else ["iso", order.value]
    return _datetime_families(text, families)[0][order.value]


def datetime_values_all_orders(arr: TextArray, *, trimmed: bool = False) -> dict[str, Parsed]:
    """:func:`datetime_values` for every ``DateOrder`` at once, keyed by its value."""
    return datetime_readings(arr, trimmed=trimmed)[0]


def datetime_readings(
    arr: TextArray, *, trimmed: bool = False
) -> tuple[dict[str, Parsed], pa.BooleanArray]:
    """:func:`datetime_values_all_orders`, and which values were written as quarters."""
    return _datetime_families(as_text(arr, trimmed), [o.value for o in DateOrder])


# --- timedelta --------------------------------------------------------------------------


def timedelta_values(arr: TextArray, *, trimmed: bool = False) -> Parsed:
    """Clock, day-clock and ISO 8601 duration texts -> duration[us] values."""
    text = as_text(arr, trimmed)
    n = len(text)
    ok = np.zeros(n, dtype=bool)
    us = np.zeros(n, dtype=np.int64)
    # Every duration either starts with P (after a sign) or has a clock's colon.
    view = StringBytes.of(text)
    first = view.first
    iso_like = first == ord("P")
    signed = np.flatnonzero(SIGNS[first] & (view.lengths > 1))
    # Only a signed text needs its second byte read.
    iso_like[signed] = view.data[view.starts[signed] + 1] == ord("P")
    clock_rows = np.flatnonzero((DIGITS | SIGNS)[first] & ~iso_like)
    clock_like = on_rows(text, clock_rows, lambda t: pc.match_substring(t, ":"))
    maybe = np.flatnonzero(iso_like | clock_like)
    candidates = maybe[
        on_rows(text, maybe, lambda t: pc.match_substring_regex(t, _DURATION_LIKE_RE))[maybe]
    ]
    if candidates.size:
        sub = text.take(pa.array(candidates))
        for pattern, compute in ((_CLOCK_RE, _clock_us), (_ISO_DURATION_RE, _iso_duration_us)):
            parts = pc.extract_regex(sub, pattern)
            rows = np.flatnonzero(np_bool(parts.is_valid()))
            if rows.size == 0:
                continue
            sub_ok, sub_us = compute(parts.take(pa.array(rows)))
            ok[candidates[rows]], us[candidates[rows]] = sub_ok, sub_us
    if not ok.any():
        return pa.array(ok), pa.nulls(n, pa.duration("us"))
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
    total_fits = np.abs(day_us.astype(np.float64) + sign * clock.astype(np.float64)) < 9.0e18
    return fits & day_fits & total_fits, day_us + sign * clock


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
