"""Vectorised "does this text parse as X" masks and the parsers behind them.

Every public function takes an Arrow array of texts (``string`` or ``large_string``, an
``Array`` or a ``ChunkedArray``; nulls are missing values) and returns ``(passes, values)``:

- ``passes``: a ``pa.BooleanArray`` of the same length, True where the text parses, False
  where it does not and where it is null (never null itself);
- ``values``: the parsed values as a typed ``pa.Array``, null wherever ``passes`` is False.

Texts are compared with surrounding whitespace trimmed. Pass ``trimmed=True`` when the texts
are already trimmed (see :func:`prepare`) to skip that step. Inference counts failures with
these masks and conversion uses the values, so both agree on what each type accepts.
Numbers and booleans are parsed here; dates and durations in ``time_parsing``.

What each type accepts:

- bool: ``types.TRUE_TEXTS`` / ``types.FALSE_TEXTS``, case-insensitive.
- int: an optional sign and ASCII digits (leading zeros allowed, no separators, no
  exponent), within int64; :func:`int_range_mask` narrows to int8/int16/int32.
- float64: decimal or scientific notation with an optional sign (``1``, ``-1.5``, ``.5``,
  ``5.``, ``1e-3``, ``+2.5E+10``), or ``inf`` / ``infinity`` / ``nan`` with an optional sign,
  any case. A finite text too large for float64 (``1e999``) parses as +-inf, as Python does.
  An integer (digits alone) that float64 would round fails: past 2**53 only some integers
  are float64s, and ``123456789012345678901234`` read as ``1.2345678901234568e+23`` loses
  the digits an id is made of; such a column stays text.
- float32 (:func:`float32_values`): passes float64, and either is an inf/nan word, or is a
  finite value that float32 holds exactly as float64 does: ``float64(float32(x)) == x`` for
  its float64 ``x`` (``0.5``, ``-2.25``, ``1e6``, ``16777216``; not ``0.1``, ``459.9`` or
  ``16777217``, which float32 would round).
- datetime (``time_parsing.datetime_values``): matches one of
  ``types.date_formats(order)``, with the year written with 4 digits; ISO (year-first)
  values with a time may also carry fractional seconds (up to 9 digits, kept to the
  microsecond, truncated) and a trailing ``Z`` or ``+HH:MM`` / ``+HHMM`` / ``+HH`` offset,
  which is applied: the value becomes UTC.
- timedelta (``time_parsing.timedelta_values``): ``[-]H:MM:SS[.f]`` (hours of any length),
  ``N day[s][,] [+-]H:MM:SS[.f]`` (pandas' and Python's ``str`` of a timedelta, e.g.
  ``-1 days +23:59:59``, ``1 day, 2:03:04.5``) and ISO 8601 durations without years or months
  (``P2W``, ``P1DT2H3M4.5S``, ``PT15M``, ``-PT1S``). Bare numbers are not timedeltas.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluice.inference.string_bytes import DIGITS, SIGNS, StringBytes, byte_set
from sluice.inference.types import (
    FALSE_TEXTS,
    INTEGER_RANGES,
    TRUE_TEXTS,
    ColumnType,
)

TextArray: TypeAlias = "pa.Array | pa.ChunkedArray"
Parsed: TypeAlias = "tuple[pa.BooleanArray, pa.Array]"

INT64_MAX_DIGITS = str(2**63 - 1)
INT64_MIN_DIGITS = str(2**63)

_INT_RE = r"^[+-]?\d+$"
_FLOAT_RE = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_FLOAT_WORD_RE = r"(?i)^[+-]?(?:inf|infinity|nan)$"


def contiguous(arr: TextArray) -> pa.Array:
    """One contiguous string array of the texts ``arr``."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.string())
    return arr


def prepare(arr: TextArray) -> pa.Array:
    """One contiguous string array with surrounding whitespace trimmed."""
    arr = contiguous(arr)
    # Trimming copies every text; most columns have nothing to trim.
    return pc.utf8_trim_whitespace(arr) if StringBytes.of(arr).needs_trim() else arr


def on_rows(text: pa.Array, rows: np.ndarray, mask_of: Any) -> np.ndarray:
    """``mask_of(texts)`` (a boolean Arrow array) evaluated at ``rows`` only; False elsewhere."""
    out = np.zeros(len(text), dtype=bool)
    if rows.size == len(text):
        out[:] = np_bool(mask_of(text))
    elif rows.size:
        out[rows] = np_bool(mask_of(text.take(pa.array(rows, type=pa.int64()))))
    return out


def as_text(arr: TextArray, trimmed: bool) -> pa.Array:
    if trimmed and isinstance(arr, pa.Array):
        return arr
    return prepare(arr)


def _false_nulls(mask: Any) -> pa.BooleanArray:
    return pc.fill_null(mask, False)


def np_bool(mask: Any) -> np.ndarray:
    """A boolean Arrow array as numpy, null -> False."""
    filled = pc.fill_null(mask, False)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=bool)


def np_int(values: Any) -> np.ndarray:
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
    if not rows.size:
        return pa.nulls(len(text), to)
    passing = text.take(pa.array(rows))
    if strip_plus:
        passing = pc.replace_substring_regex(passing, r"^\+", "")
    return _scattered(len(text), rows, pc.cast(passing, to), passes)


def _scattered(length: int, rows: np.ndarray, values: pa.Array, passes: np.ndarray) -> pa.Array:
    """``values`` (no nulls) placed at ``rows`` of an array of ``length``, null where
    ``passes`` is False."""
    out = np.zeros(length, dtype=values.type.to_pandas_dtype())
    out[rows] = values.to_numpy(zero_copy_only=False)
    return pa.array(out, type=values.type, mask=~passes)


def _null_unless(mask: pa.BooleanArray, values: pa.Array) -> pa.Array:
    return pc.if_else(mask, values, pa.scalar(None, values.type))


_BOOL_FIRST = byte_set("".join(t[0] + t[0].upper() for t in TRUE_TEXTS + FALSE_TEXTS).encode())
_BOOL_LONGEST = max(len(t) for t in TRUE_TEXTS + FALSE_TEXTS)


def bool_mask_and_values(arr: TextArray, *, trimmed: bool = False) -> Parsed:
    """True/false words (``types.TRUE_TEXTS`` / ``FALSE_TEXTS``), any case."""
    text = as_text(arr, trimmed)
    view = StringBytes.of(text)
    rows = np.flatnonzero(
        (view.lengths > 0) & (view.lengths <= _BOOL_LONGEST) & _BOOL_FIRST[view.first]
    )
    is_true = on_rows(
        text, rows, lambda t: pc.is_in(pc.utf8_lower(t), value_set=pa.array(TRUE_TEXTS))
    )
    is_false = on_rows(
        text, rows, lambda t: pc.is_in(pc.utf8_lower(t), value_set=pa.array(FALSE_TEXTS))
    )
    passes = is_true | is_false
    return pa.array(passes), pa.array(is_true, mask=~passes)


_TRUE_DIGITS = byte_set("".join(t for t in TRUE_TEXTS if t.isdigit()).encode())
_FALSE_DIGITS = byte_set("".join(t for t in FALSE_TEXTS if t.isdigit()).encode())


def bools_of_numbers(text: pa.Array) -> Parsed:
    """:func:`bool_mask_and_values` of trimmed texts that all read as numbers: of those,
    only the one-digit words (``1``, ``0``) are booleans, and a look at each value's
    length and first byte tells."""
    view = StringBytes.of(text)
    single = view.lengths == 1
    is_true = single & _TRUE_DIGITS[view.first]
    passes = is_true | (single & _FALSE_DIGITS[view.first])
    return pa.array(passes), pa.array(is_true, mask=~passes)


_INT_BYTES = b"0123456789-"
_FLOAT_BYTES = b"0123456789+-.eE"
_NUMBER_FIRST = DIGITS | byte_set(b"+-.iInN")
_EXPONENT_BYTES = b"eE"
_NATIVE_PROBE = 1024


def _native(text: pa.Array, to: pa.DataType, alphabet: bytes) -> pa.Array | None:
    """``text`` cast by Arrow's own parser when every value reads and uses only bytes of
    ``alphabet`` (over which Arrow's grammar is sluice's: the tests fuzz the two against
    each other); None otherwise. Inference asks for each column's ints and floats more
    than once (numbers first, then the texts' readings): the answer is kept on its view."""
    view = StringBytes.of(text)
    key = (str(to), alphabet)
    if key not in view.casts:
        view.casts[key] = _native_cast(text, view, to, alphabet)
    return view.casts[key]


def _native_cast(
    text: pa.Array, view: StringBytes, to: pa.DataType, alphabet: bytes
) -> pa.Array | None:
    # A failing cast costs as much as the whole column whatever fails (it formats its
    # error), and most columns that fail, fail in their first values: a word's letters,
    # a date's second '-' ("2024-01-31" has only digits and signs). So the first values
    # are looked at and cast before any pass over all of them (for a column of dates, a
    # copy and a look at every byte that cost 20 ms a 60 MiB chunk).
    probe = text.slice(0, _NATIVE_PROBE)
    try:
        if len(probe) < len(text):
            if not _in_alphabet(view, len(probe), alphabet):
                return None
            pc.cast(probe, to)
        present = view.lengths > 0
        if not present.any() or not byte_set(alphabet)[view.first[present]].all():
            return None
        if not view.only_bytes(alphabet):
            return None
        return pc.cast(text, to)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _in_alphabet(view: StringBytes, count: int, alphabet: bytes) -> bool:
    """Whether the first ``count`` values' bytes are all of ``alphabet``."""
    lengths = view.lengths[:count]
    if not lengths.any():
        return True
    start = int(view.starts[0])
    end = int(view.starts[count - 1] + lengths[-1])
    return not view.data[start:end].tobytes().translate(None, alphabet)


def native_ints(text: pa.Array) -> pa.Array | None:
    """Trimmed ``text`` as int64 when every value is an integer Arrow reads itself."""
    return _native(text, pa.int64(), _INT_BYTES)


def native_floats(text: pa.Array) -> pa.Array | None:
    """Trimmed ``text`` as float64 when every value is a decimal Arrow reads itself."""
    return _native(text, pa.float64(), _FLOAT_BYTES)


def _native_on(
    text: pa.Array, view: StringBytes, rows: np.ndarray, to: pa.DataType, alphabet: bytes
) -> Parsed | None:
    """(passes, values) from Arrow's own cast of the texts at ``rows``, when every one of
    them reads (:func:`_native`); None otherwise. A column of numbers and a few words
    ("B-8077" among ids) then costs one cast of its numbers, not a regex over them."""
    if not rows.size or rows.size == len(text) or not byte_set(alphabet)[view.first[rows]].all():
        return None
    cast = _native(text.take(pa.array(rows, type=pa.int64())), to, alphabet)
    if cast is None:
        return None
    passes = np.zeros(len(text), dtype=bool)
    passes[rows] = True
    return pa.array(passes), _scattered(len(text), rows, cast, passes)


def _candidates(first_ok: np.ndarray, skip: np.ndarray | None) -> np.ndarray:
    return np.flatnonzero(first_ok if skip is None else first_ok & ~skip)


def int_values(arr: TextArray, *, trimmed: bool = False, skip: np.ndarray | None = None) -> Parsed:
    """Optional sign and digits within int64 -> int64 values. ``skip`` marks rows known
    not to be numbers (dates, say), which fail without a look."""
    text = as_text(arr, trimmed)
    native = native_ints(text)
    if native is not None:
        return pc.is_valid(native), native
    view = StringBytes.of(text)
    candidates = _candidates((DIGITS | SIGNS)[view.first], skip)
    native = _native_on(text, view, candidates, pa.int64(), _INT_BYTES)
    if native is not None:
        return native
    passes = on_rows(text, candidates, lambda t: pc.match_substring_regex(t, _INT_RE))
    length = view.lengths
    long_rows = np.flatnonzero(passes & (length >= 19))
    if long_rows.size:
        sub = text.take(pa.array(long_rows))
        digits = pc.replace_substring_regex(sub, r"^[+-]?0*", "")
        size = np_int(pc.binary_length(digits))
        negative = np_bool(pc.starts_with(sub, "-"))
        below_min = np_bool(pc.less_equal(digits, INT64_MIN_DIGITS))
        below_max = np_bool(pc.less_equal(digits, INT64_MAX_DIGITS))
        fits = (size < 19) | ((size == 19) & np.where(negative, below_min, below_max))
        passes[long_rows] = fits
    plus = bool((view.first == ord("+")).any())
    return pa.array(passes), _cast_where(text, passes, pa.int64(), strip_plus=plus)


def int_range_masks(values: pa.Array) -> dict[ColumnType, pa.BooleanArray]:
    """:func:`int_range_mask` of every integer type at once, from one numpy copy."""
    if values.null_count == len(values):  # no integers (a column of text): all fail
        nothing = pa.array(np.zeros(len(values), dtype=bool))
        return dict.fromkeys(INTEGER_RANGES, nothing)
    bounds = pc.min_max(values)
    least, most = bounds["min"].as_py(), bounds["max"].as_py()
    present = values.is_valid()  # every value fits the types whose range holds both bounds
    wider = {t for t, (low, high) in INTEGER_RANGES.items() if low <= least and most <= high}
    if len(wider) == len(INTEGER_RANGES):
        return dict.fromkeys(INTEGER_RANGES, present)
    valid, number = np_bool(present), np_int(values)
    return {
        column_type: present
        if column_type in wider
        else pa.array(valid & (number >= low) & (number <= high))
        for column_type, (low, high) in INTEGER_RANGES.items()
    }


def int_range_mask(values: pa.Array, column_type: ColumnType) -> pa.BooleanArray:
    """Where int64 ``values`` fit ``column_type`` (int8 ... int64); False where null."""
    return int_range_masks(values)[column_type]


_COMMA_NUMBER_RE = r"^\s*[+-]?(?:(?:\d+|\d{1,3}(?:\.\d{3})+)(?:,\d*)?|,\d+)\s*$"
"""A number written with a decimal comma and, perhaps, thousands points: ``3,5``,
``-1.234,56``, ``1.234`` (1234), ``,5``."""


def with_decimal_point(arr: TextArray, decimal: str) -> TextArray:
    """``arr`` with its numbers written with the decimal mark ``decimal`` rewritten with a
    point, for the number parsers: with ``decimal`` ',', ``1.234,56`` reads
    ``1234.56`` (points group thousands). Other texts, and every text with the mark '.',
    are left as they are."""
    if decimal == ".":
        return arr
    text = contiguous(arr)
    if not StringBytes.of(text).any_of(b",."):
        return text
    looks = pc.match_substring_regex(text, _COMMA_NUMBER_RE)
    if not pc.any(looks).as_py():
        return text
    rewritten = pc.replace_substring(pc.replace_substring(text, ".", ""), ",", ".")
    return pc.if_else(looks, rewritten, text)


def float_values(
    arr: TextArray, *, trimmed: bool = False, skip: np.ndarray | None = None
) -> Parsed:
    """Decimal / scientific numbers and inf/nan words -> float64 values (``skip``: as for
    :func:`int_values`); an integer float64 cannot hold exactly fails
    (:func:`_integers_float64_rounds`)."""
    text = as_text(arr, trimmed)
    return without_rounded_integers(text, *_float_readings(text, skip))


def _float_readings(text: pa.Array, skip: np.ndarray | None) -> Parsed:
    native = native_floats(text)
    if native is not None:
        return pc.is_valid(native), native
    view = StringBytes.of(text)
    candidates = _candidates(_NUMBER_FIRST[view.first], skip)
    native = _native_on(text, view, candidates, pa.float64(), _FLOAT_BYTES)
    if native is not None:
        return native
    passes = on_rows(text, candidates, lambda t: pc.match_substring_regex(t, _FLOAT_RE))
    words = np.zeros(len(text), dtype=bool)
    words[candidates] = True
    passes |= _float_words(text, words & ~passes)
    return pa.array(passes), _cast_where(text, passes, pa.float64())


EXACT_INTEGER_LIMIT = 2**53
"""Every integer below this magnitude is a float64; from it on, only some are."""
_DECIMAL_DIGITS = 38
"""decimal128's digits: the exact integers an integer text is compared in."""


def reaches_exact_integer_limit(values: pa.Array | pa.ChunkedArray) -> bool:
    """Whether any of the float ``values`` is 2**53 or more in magnitude (inf included)."""
    bounds = pc.min_max(values).as_py()
    low, high = bounds["min"], bounds["max"]
    return low is not None and (high >= EXACT_INTEGER_LIMIT or low <= -EXACT_INTEGER_LIMIT)


def without_rounded_integers(text: pa.Array, passes: Any, values: pa.Array) -> Parsed:
    """``(passes, values)``, float64 readings of ``text``, less the integers float64
    rounds (:func:`_integers_float64_rounds`)."""
    rounded = _integers_float64_rounds(text, values)
    if not rounded.any():
        return passes, values
    kept = np_bool(passes) & ~rounded
    return pa.array(kept), _null_unless(pa.array(kept), values)


def _integers_float64_rounds(text: pa.Array, values: pa.Array) -> np.ndarray:
    """Where ``text`` is an integer (digits, an optional sign) whose float64 ``values`` is
    another number: past 2**53 (9007199254740993, a 24-digit id), so that a column of
    such stays text rather than losing digits. Found without Python per row: only values
    past 2**53 are looked at, the text and the float compared as exact decimal128s (an
    integer of more than 38 digits, past decimal128, counts as rounded)."""
    rounded = np.zeros(len(text), dtype=bool)
    if not reaches_exact_integer_limit(values):
        return rounded  # most columns: one pass for their bounds
    magnitude = np.abs(_np_float(values))
    rows = np.flatnonzero(np.isfinite(magnitude) & (magnitude >= EXACT_INTEGER_LIMIT))
    if not rows.size:
        return rounded
    taken = pa.array(rows, type=pa.int64())
    texts = text.take(taken)
    integers = np_bool(pc.match_substring_regex(texts, _INT_RE))
    if not integers.any():
        return rounded
    rows, texts = rows[integers], texts.filter(pa.array(integers))
    digits = pc.replace_substring_regex(texts, r"^[+-]?0*", "")
    wide = np_bool(pc.greater(pc.utf8_length(digits), _DECIMAL_DIGITS))
    exact = pa.decimal128(_DECIMAL_DIGITS, 0)
    fits = ~wide
    differs = wide.copy()
    if fits.any():
        # Arrow's decimal parser takes neither '+' nor an empty digit string.
        signed = pc.replace_substring_regex(texts.filter(pa.array(fits)), r"^\+", "")
        as_text = pc.cast(signed, exact)
        as_float = pc.cast(values.take(pa.array(rows[fits], type=pa.int64())), exact)
        differs[fits] = ~np_bool(pc.equal(as_text, as_float))
    rounded[rows] = differs
    return rounded


def _float_words(text: pa.Array, where: np.ndarray) -> np.ndarray:
    """Where ``text`` is an inf/nan word, looking only at the rows ``where`` is True."""
    words = np.zeros(len(text), dtype=bool)
    rows = np.flatnonzero(where & np_bool(text.is_valid()))
    if rows.size:
        words[rows] = np_bool(pc.match_substring_regex(text.take(pa.array(rows)), _FLOAT_WORD_RE))
    return words


def float32_values(arr: TextArray, *, trimmed: bool = False) -> Parsed:
    """Texts that float32 holds exactly as float64 does (see the module docstring) ->
    float32 values."""
    text = as_text(arr, trimmed)
    passes64, values64 = float_values(text, trimmed=True)
    passes = float32_passes_of_float64(text, passes64, values64)
    return passes, pc.cast(_null_unless(passes, values64), pa.float32())


def float32_passes_of_ints(values: pa.Array) -> pa.BooleanArray:
    """:func:`float32_values`' passes for integer texts (sign and digits) read as int64
    ``values``: those float64 holds exactly whose float64 float32 holds exactly, as the
    text path decides. (Inference needs only the passes: a float32 column converts from
    the float64s.)"""
    number = np_int(values)
    exact = (number >= -FLOAT32_EXACT_INTS) & (number <= FLOAT32_EXACT_INTS)
    rows = np.flatnonzero(~exact)
    if rows.size:  # every int64 is within float32's range: only exactness tells
        value = number[rows].astype(np.float64)
        exact[rows] = value.astype(np.float32).astype(np.float64) == value
    return pa.array(exact & float64_passes_of_ints(values))


def float64_passes_of_ints(values: pa.Array) -> np.ndarray:
    """:func:`float_values`' passes for integer texts read as int64 ``values``: the
    integers float64 holds exactly (every one below 2**53, some past it; not 2**63 - 1,
    which it rounds to 2**63)."""
    number = np_int(values)
    # |-(2**63)| wraps to itself, below the limit: exact, as it is (a power of two).
    exact = np.abs(number) < EXACT_INTEGER_LIMIT
    rows = np.flatnonzero(~exact)
    if rows.size:
        value = number[rows].astype(np.float64)
        # 2**63 is past int64: a value that rounds to it is not exact (and cannot be cast).
        inside = value < 2.0**63
        back = np.where(inside, value, 0.0).astype(np.int64)
        exact[rows] = inside & (back == number[rows])
    return exact & np_bool(values.is_valid())


FLOAT32_EXACT_INTS = 2**24
"""float32 holds every integer of at most this magnitude exactly."""


def float32_passes_of_float64(
    text: pa.Array, passes64: pa.Array, values64: pa.Array
) -> pa.BooleanArray:
    """:func:`float32_values`' passes given trimmed texts and their :func:`float_values`:
    the finite values that float64 -> float32 -> float64 gives back unchanged (halves,
    quarters, small integers: never 0.1 or 459.9), and the inf/nan words. A finite text
    past float64's range (``1e999``, read as inf) fails, as it did float32's range."""
    if not passes64.true_count:  # a column of text: nothing to count
        return passes64
    value = _np_float(values64)
    with np.errstate(over="ignore", invalid="ignore"):
        exact = value.astype(np.float32).astype(np.float64) == value  # NaN: False
    finite = np.isfinite(value)
    words = _float_words(text, np_bool(passes64) & ~finite)
    return pa.array((np_bool(passes64) & finite & exact) | words)
