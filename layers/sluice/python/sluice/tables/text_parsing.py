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
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluice.tables.fixed_dates import parse_fixed_dates
from sluice.tables.string_bytes import DIGITS, SIGNS, StringBytes, byte_set
from sluice.tables.types import (
    FALSE_TEXTS,
    INTEGER_RANGES,
    TRUE_TEXTS,
    ColumnType,
    DateOrder,
    date_formats,
)

TextArray: TypeAlias = "pa.Array | pa.ChunkedArray"
Parsed: TypeAlias = "tuple[pa.BooleanArray, pa.Array]"

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
_TIME_RE = r"(?:[T ]\d{1,2}:[0-5]\d(?::[0-5]\d)?)?"
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


def prepare(arr: TextArray) -> pa.Array:
    """One contiguous string array with surrounding whitespace trimmed."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.string())
    # Trimming copies every text; most columns have nothing to trim.
    return pc.utf8_trim_whitespace(arr) if StringBytes.of(arr).needs_trim() else arr


def _on_rows(text: pa.Array, rows: np.ndarray, mask_of: Any) -> np.ndarray:
    """``mask_of(texts)`` (a boolean Arrow array) evaluated at ``rows`` only; False elsewhere."""
    out = np.zeros(len(text), dtype=bool)
    if rows.size == len(text):
        out[:] = _np_bool(mask_of(text))
    elif rows.size:
        out[rows] = _np_bool(mask_of(text.take(pa.array(rows, type=pa.int64()))))
    return out


def _text(arr: TextArray, trimmed: bool) -> pa.Array:
    if trimmed and isinstance(arr, pa.Array):
        return arr
    return prepare(arr)


def _false_nulls(mask: Any) -> pa.BooleanArray:
    return pc.fill_null(mask, False)


def _np_bool(mask: Any) -> np.ndarray:
    """A boolean Arrow array as numpy, null -> False."""
    filled = pc.fill_null(mask, False)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def _np_int(values: Any) -> np.ndarray:
    """An integer Arrow array as a writable numpy int64 array, null -> 0."""
    filled = pc.fill_null(values, 0)
    return np.array(filled.to_numpy(zero_copy_only=False), dtype=np.int64)


def _np_float(values: Any) -> np.ndarray:
    filled = pc.fill_null(values, np.nan)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=np.float64)


def _cast_where(
    text: pa.Array, passes: np.ndarray, to: pa.DataType, strip_plus: bool = False
) -> pa.Array:
    """The texts at ``passes`` cast to ``to`` (a numeric type), null elsewhere: only those
    texts are cast (without a leading '+', which Arrow's integers refuse, if asked)."""
    rows = np.flatnonzero(passes)
    values = np.zeros(len(text), dtype=to.to_pandas_dtype())
    if rows.size:
        passing = text.take(pa.array(rows))
        if strip_plus:
            passing = pc.replace_substring_regex(passing, r"^\+", "")
        values[rows] = pc.cast(passing, to).to_numpy(zero_copy_only=False)
    return pa.array(values, type=to, mask=~passes)


def _null_unless(mask: pa.BooleanArray, values: pa.Array) -> pa.Array:
    return pc.if_else(mask, values, pa.scalar(None, values.type))


_BOOL_FIRST = byte_set("".join(t[0] + t[0].upper() for t in TRUE_TEXTS + FALSE_TEXTS).encode())
_BOOL_LONGEST = max(len(t) for t in TRUE_TEXTS + FALSE_TEXTS)


def bool_mask_and_values(arr: TextArray, *, trimmed: bool = False) -> Parsed:
    """True/false words (``types.TRUE_TEXTS`` / ``FALSE_TEXTS``), any case."""
    text = _text(arr, trimmed)
    view = StringBytes.of(text)
    rows = np.flatnonzero(
        (view.lengths > 0) & (view.lengths <= _BOOL_LONGEST) & _BOOL_FIRST[view.first]
    )
    is_true = _on_rows(
        text, rows, lambda t: pc.is_in(pc.utf8_lower(t), value_set=pa.array(TRUE_TEXTS))
    )
    is_false = _on_rows(
        text, rows, lambda t: pc.is_in(pc.utf8_lower(t), value_set=pa.array(FALSE_TEXTS))
    )
    passes = is_true | is_false
    return pa.array(passes), pa.array(is_true, mask=~passes)


_INT_BYTES = b"0123456789-"
_FLOAT_BYTES = b"0123456789+-.eE"
_NUMBER_FIRST = DIGITS | byte_set(b"+-.iInN")
_EXPONENT_BYTES = b"eE"
_NATIVE_PROBE = 1024


def _native(text: pa.Array, to: pa.DataType, alphabet: bytes) -> pa.Array | None:
    """``text`` cast by Arrow's own parser when every value reads and uses only bytes of
    ``alphabet`` (over which Arrow's grammar is sluice's: the tests fuzz the two against
    each other); None otherwise."""
    view = StringBytes.of(text)
    present = view.lengths > 0
    # A failing cast is dear (it formats its error), so look at the bytes first.
    if not present.any() or not byte_set(alphabet)[view.first[present]].all():
        return None
    if not view.only_bytes(alphabet):
        return None
    try:
        # A failing cast costs as much as the whole column whatever fails: try a prefix
        # first, which dates ("2024-01-31" has only digits and signs) fail at once.
        pc.cast(text.slice(0, _NATIVE_PROBE), to)
        return pc.cast(text, to)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def native_ints(text: pa.Array) -> pa.Array | None:
    """Trimmed ``text`` as int64 when every value is an integer Arrow reads itself."""
    return _native(text, pa.int64(), _INT_BYTES)


def native_floats(text: pa.Array) -> pa.Array | None:
    """Trimmed ``text`` as float64 when every value is a decimal Arrow reads itself."""
    return _native(text, pa.float64(), _FLOAT_BYTES)


def _candidates(first_ok: np.ndarray, skip: np.ndarray | None) -> np.ndarray:
    return np.flatnonzero(first_ok if skip is None else first_ok & ~skip)


def int_values(arr: TextArray, *, trimmed: bool = False, skip: np.ndarray | None = None) -> Parsed:
    """Optional sign and digits within int64 -> int64 values. ``skip`` marks rows known
    not to be numbers (dates, say), which fail without a look."""
    text = _text(arr, trimmed)
    native = native_ints(text)
    if native is not None:
        return pc.is_valid(native), native
    view = StringBytes.of(text)
    candidates = _candidates((DIGITS | SIGNS)[view.first], skip)
    passes = _on_rows(text, candidates, lambda t: pc.match_substring_regex(t, _INT_RE))
    length = view.lengths
    long_rows = np.flatnonzero(passes & (length >= 19))
    if long_rows.size:
        sub = text.take(pa.array(long_rows))
        digits = pc.replace_substring_regex(sub, r"^[+-]?0*", "")
        size = _np_int(pc.binary_length(digits))
        negative = _np_bool(pc.starts_with(sub, "-"))
        below_min = _np_bool(pc.less_equal(digits, INT64_MIN_DIGITS))
        below_max = _np_bool(pc.less_equal(digits, INT64_MAX_DIGITS))
        fits = (size < 19) | ((size == 19) & np.where(negative, below_min, below_max))
        passes[long_rows] = fits
    plus = bool((view.first == ord("+")).any())
    return pa.array(passes), _cast_where(text, passes, pa.int64(), strip_plus=plus)


def int_range_mask(values: pa.Array, column_type: ColumnType) -> pa.BooleanArray:
    """Where int64 ``values`` fit ``column_type`` (int8 ... int64); False where null."""
    low, high = INTEGER_RANGES[column_type]
    inside = pc.and_(pc.greater_equal(values, low), pc.less_equal(values, high))
    return _false_nulls(inside)


def float_values(
    arr: TextArray, *, trimmed: bool = False, skip: np.ndarray | None = None
) -> Parsed:
    """Decimal / scientific numbers and inf/nan words -> float64 values (``skip``: as for
    :func:`int_values`)."""
    text = _text(arr, trimmed)
    native = native_floats(text)
    if native is not None:
        return pc.is_valid(native), native
    view = StringBytes.of(text)
    candidates = _candidates(_NUMBER_FIRST[view.first], skip)
    passes = _on_rows(text, candidates, lambda t: pc.match_substring_regex(t, _FLOAT_RE))
    words = np.zeros(len(text), dtype=bool)
    words[candidates] = True
    passes |= _float_words(text, words & ~passes)
    return pa.array(passes), _cast_where(text, passes, pa.float64())


def _float_words(text: pa.Array, where: np.ndarray) -> np.ndarray:
    """Where ``text`` is an inf/nan word, looking only at the rows ``where`` is True."""
    words = np.zeros(len(text), dtype=bool)
    rows = np.flatnonzero(where & _np_bool(text.is_valid()))
    if rows.size:
        words[rows] = _np_bool(pc.match_substring_regex(text.take(pa.array(rows)), _FLOAT_WORD_RE))
    return words


def float32_values(arr: TextArray, *, trimmed: bool = False) -> Parsed:
    """Texts that float32 holds faithfully (see the module docstring) -> float32 values."""
    text = _text(arr, trimmed)
    passes64, values64 = float_values(text, trimmed=True)
    return float32_from_float64(text, passes64, values64)


def float32_from_ints(values: pa.Array) -> Parsed:
    """:func:`float32_values` of integer texts (sign and digits) read as ``values``: those
    with at most 7 significant digits, counted on the number itself."""
    number = np.abs(_np_int(values))
    few = number < 10**FLOAT32_SIGNIFICANT_DIGITS
    rows = np.flatnonzero(~few)
    if rows.size:
        big = number[rows]
        # Trailing zeros are not significant: strip them, then count what is left.
        for _ in range(19):
            tens = big % 10 == 0
            if not tens.any():
                break
            big = np.where(tens, big // 10, big)
        few[rows] = big < 10**FLOAT32_SIGNIFICANT_DIGITS
    passes = pa.array(few & _np_bool(values.is_valid()))
    # Through float64, as a text is: the same rounding.
    as_float64 = pc.cast(values, pa.float64(), safe=False)
    return passes, pc.cast(_null_unless(passes, as_float64), pa.float32())


def float32_from_float64(text: pa.Array, passes64: pa.Array, values64: pa.Array) -> Parsed:
    """:func:`float32_values` given trimmed texts and their :func:`float_values` result."""
    magnitude = _np_float(pc.abs(values64))
    finite = np.isfinite(magnitude)
    words = _float_words(text, _np_bool(passes64) & ~finite)
    with np.errstate(invalid="ignore"):
        in_range = (magnitude == 0.0) | (
            (magnitude >= FLOAT32_MIN_NORMAL) & (magnitude <= FLOAT32_MAX)
        )
    numeric = _np_bool(passes64) & ~words & in_range
    # Only numbers need their digits counted: text columns skip the string passes.
    number_rows = np.flatnonzero(numeric)
    numbers = text if number_rows.size == len(text) else text.take(pa.array(number_rows))
    # A text of at most 7 characters has at most 7 digits: no closer look.
    few = StringBytes.of(numbers).lengths <= FLOAT32_SIGNIFICANT_DIGITS
    count_rows = np.flatnonzero(~few)
    if count_rows.size:
        mantissa = numbers.take(pa.array(count_rows))
        if StringBytes.of(mantissa).any_of(_EXPONENT_BYTES):
            mantissa = pc.replace_substring_regex(mantissa, r"[eE].*$", "")
        # Signs, leading and trailing zeros and the point are not significant digits.
        core = pc.ascii_trim(mantissa, "+-0.")
        significant = _np_int(pc.binary_length(core)) - _np_bool(pc.match_substring(core, "."))
        few[count_rows] = significant <= FLOAT32_SIGNIFICANT_DIGITS
    few_digits = np.zeros(len(text), dtype=bool)
    few_digits[number_rows] = few
    passes = pa.array(words | (numeric & few_digits))
    return passes, pc.cast(_null_unless(passes, values64), pa.float32())


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
        hit = _np_bool(parsed.is_valid())
        if hit.any():
            us[remaining[hit]] = _np_int(parsed.cast(pa.int64()))[hit]
            ok[remaining[hit]] = True
            remaining = remaining[~hit]
    return ok, us


def _same_day(texts: pa.Array, ok: np.ndarray, us: np.ndarray, family: str) -> np.ndarray:
    """False where strptime rolled an impossible day over (2024-02-30 read as March 1st)."""
    read = _np_int(pc.day(pa.array(us, type=pa.int64()).cast(pa.timestamp("us"))))
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
    rows = np.flatnonzero(_np_bool(parts.is_valid()))
    if rows.size == 0:
        return text, ok, shift
    base = pc.coalesce(pc.struct_field(parts, "base"), text)
    parts = parts.take(pa.array(rows))
    frac = pc.struct_field(parts, "frac")
    has_seconds = pc.match_substring_regex(pc.struct_field(parts, "base"), r":\d{2}:\d{2}$")
    frac_ok = _np_bool(pc.or_(pc.equal(frac, ""), has_seconds))
    tz_parts = pc.extract_regex(pc.struct_field(parts, "tz"), _TZ_RE)
    sign = np.where(_np_bool(pc.equal(pc.struct_field(tz_parts, "sign"), "-")), -1, 1)
    hh, mm = _int_column(tz_parts, "hh"), _int_column(tz_parts, "mm")
    offset_us = sign * (hh * 3600 + mm * 60) * US_PER_SECOND
    shift[rows] = _fraction_us(parts, "frac") - offset_us
    ok[rows] = frac_ok & (hh <= 23) & (mm <= 59)
    return base, ok, shift


_DATE_SHORTEST = 8
"""The shortest date sluice reads: a four-digit year and two one-digit numbers (1/2/2024)."""


def _datetime_families(text: pa.Array, families: Sequence[str]) -> dict[str, Parsed]:
    """Each family's result, where a non-ISO family also accepts what ISO accepts."""
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
    rest = rest[_on_rows(text, rest, lambda t: pc.match_substring_regex(t, _DATE_LIKE_RE))[rest]]
    if rest.size:
        dense = _datetime_dense(text.take(pa.array(rest)), families)
        for family, (ok, us) in found.items():
            ok[rest], us[rest] = dense[family]
    out: dict[str, Parsed] = {}
    for family, (ok, us) in found.items():
        values = pa.array(us, type=pa.int64(), mask=~ok).cast(pa.timestamp("us"))
        out[family] = (pa.array(ok), values)
    return out


def _datetime_dense(text: pa.Array, families: Sequence[str]) -> dict[str, tuple[Any, Any]]:
    """(ok, microseconds) per family over date-like texts; ISO parsed once and shared."""
    base, extra_ok, shift = _iso_extras(text)
    n = len(text)
    shapes: dict[str, np.ndarray] = {}
    results: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for family in families:
        pattern = _FAMILY_RE[family]
        if pattern not in shapes:
            shapes[pattern] = _np_bool(pc.match_substring_regex(base, pattern))
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
    # Every duration either starts with P (after a sign) or has a clock's colon.
    view = StringBytes.of(text)
    first, second = view.first, view.byte_at(1)
    iso_like = (first == ord("P")) | (SIGNS[first] & (second == ord("P")))
    clock_rows = np.flatnonzero((DIGITS | SIGNS)[first] & ~iso_like)
    clock_like = _on_rows(text, clock_rows, lambda t: pc.match_substring(t, ":"))
    maybe = np.flatnonzero(iso_like | clock_like)
    candidates = maybe[
        _on_rows(text, maybe, lambda t: pc.match_substring_regex(t, _DURATION_LIKE_RE))[maybe]
    ]
    if candidates.size:
        sub = text.take(pa.array(candidates))
        for pattern, compute in ((_CLOCK_RE, _clock_us), (_ISO_DURATION_RE, _iso_duration_us)):
            parts = pc.extract_regex(sub, pattern)
            rows = np.flatnonzero(_np_bool(parts.is_valid()))
            if rows.size == 0:
                continue
            sub_ok, sub_us = compute(parts.take(pa.array(rows)))
            ok[candidates[rows]], us[candidates[rows]] = sub_ok, sub_us
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
