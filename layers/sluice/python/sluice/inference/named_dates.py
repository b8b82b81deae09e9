"""Dates written with English month names (``Jan-1-1995``, ``1 Jan 2020``, ``January 5,
2021``, ``05-Jan-2021``) and quarters (``1974Q1``), read without a Python step per value.

A month name says which number is the month, so these dates fit every ``DateOrder``, as
ISO dates do. The grammar (``types.MONTH_NAMES`` for the names; any case; ``S`` one of
``-``, ``/``, ``.`` or a space, the same twice):

- month first: ``Mon S D[,] S Y`` (the comma only before a space: ``January 5, 2021``)
- day first: ``D S Mon S Y``, or with no separators (``05Jan2021``)
- year first: ``YYYY S Mon S D``
- D is 1 or 2 digits, Y 4 digits or 2 (``%y``'s pivot: 69..99 -> 19xx, 00..68 -> 20xx,
  never for year-first); a time may follow as on numeric dates (``T`` or a space, then
  ``H:MM`` or ``H:MM:SS``)
- quarters: ``YYYY[S]Qn`` or ``Qn S YYYY`` with ``S`` a ``-`` or a space and n 1..4, read
  as the quarter's first day (``1974Q2`` -> 1974-04-01)

Only values that can be one are looked at (a byte-level look, ``candidates``): every form
ends with a digit, and starts with a month's first letter and two more letters, with a
quarter's ``Qn``, or with digits followed by a letter within the first six bytes. One
regex match of every form at once drops the rest; each form is then one ``extract_regex``
over the lower-cased texts the forms before it left, and the numbers become dates with
``fixed_dates.date_us``, which refuses impossible days (Feb 30) as every date path does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluice.inference.fixed_dates import date_us
from sluice.inference.string_bytes import DIGITS, StringBytes, byte_set
from sluice.inference.types import MONTH_NAMES

US_PER_SECOND = 1_000_000
_SHORTEST = 6  # 1974Q1
_LONGEST = 40  # september 30, 2024 12:30:45 is 28
_LETTERS = byte_set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_INITIALS = byte_set("".join({name[0] for name in MONTH_NAMES}).encode())
_INITIALS |= byte_set("".join({name[0] for name in MONTH_NAMES}).upper().encode())
_QUARTER = byte_set(b"qQ")
_QUARTER_NUMBERS = byte_set(b"1234")
_LETTER_AT = (2, 3, 4, 5)  # 1 Jan, 05-Jan, 1974Q1, 2021-Jan / 1974-Q1
_ABBREVIATIONS = [name[:3] for name in MONTH_NAMES]


def _month_re() -> str:
    spelled = []
    for name in MONTH_NAMES:
        rest = name[3:]
        if name == "september":  # sep, sept, september
            spelled.append("sep(?:t(?:ember)?)?")
        else:
            spelled.append(f"{name[:3]}(?:{rest})?" if rest else name)
    return "(?P<mon>" + "|".join(spelled) + ")"


_MON = _month_re()
_DAY = r"(?P<day>\d{1,2})"
_YEAR = r"(?P<year>\d{4}|\d{2})"
_YEAR4 = r"(?P<year>\d{4})"
_SEP = "[-/. ]"
_TIME = r"(?:[ t](?P<h>\d{1,2}):(?P<mi>[0-5]\d)(?::(?P<sec>[0-5]\d))?)?"
_FORMS: dict[str, str] = {
    "month_first": f"^{_MON}(?P<s1>{_SEP}){_DAY}(?P<comma>,?)(?P<s2>{_SEP}){_YEAR}{_TIME}$",
    "day_first": f"^{_DAY}(?P<s1>{_SEP}?){_MON}(?P<s2>{_SEP}?){_YEAR}{_TIME}$",
    "year_first": f"^{_YEAR4}(?P<s1>{_SEP}){_MON}(?P<s2>{_SEP}){_DAY}{_TIME}$",
    "quarter_last": r"^(?P<year>\d{4})[- ]?q(?P<q>[1-4])$",
    "quarter_first": r"^q(?P<q>[1-4])[- ](?P<year>\d{4})$",
}
_ANY_FORM = "|".join(f"(?:{re.sub(r'[(][?]P<[a-z0-9]+>', '(?:', p)})" for p in _FORMS.values())
_SAMPLE = 64


@dataclass(frozen=True)
class NamedDates:
    """What this parser made of some rows of a text array."""

    rows: np.ndarray  # the rows read as such a date (every other row: not one)
    us: np.ndarray  # per row in ``rows``: microseconds since the epoch
    quarter: np.ndarray  # per row in ``rows``: written as a quarter


def candidates(view: StringBytes, rows: np.ndarray) -> np.ndarray:
    """The ``rows`` that may hold a month-name date or a quarter, by their bytes alone."""
    # Whole-array masks first: most texts that are no date fail on their length or last byte.
    lengths = view.lengths
    shaped = (lengths >= _SHORTEST) & (lengths <= _LONGEST) & DIGITS[view.byte_at(-1)]
    if rows.size < len(view):
        asked = np.zeros(len(view), dtype=bool)
        asked[rows] = True
        shaped &= asked
    rows = np.flatnonzero(shaped)
    starts, first = view.starts[rows], view.first[rows]
    keep = np.zeros(rows.size, dtype=bool)
    digit_first = np.flatnonzero(DIGITS[first])
    for position in _LETTER_AT:
        keep[digit_first] |= _LETTERS[view.data[starts[digit_first] + position]]
    month_first = np.flatnonzero(_INITIALS[first])
    keep[month_first] = (
        _LETTERS[view.data[starts[month_first] + 1]] & _LETTERS[view.data[starts[month_first] + 2]]
    )
    quarter_first = np.flatnonzero(_QUARTER[first])
    keep[quarter_first] = _QUARTER_NUMBERS[view.data[starts[quarter_first] + 1]]
    return rows[keep]


def _ints(parts: pa.StructArray, name: str) -> np.ndarray:
    field = pc.struct_field(parts, name)
    cleaned = pc.if_else(pc.equal(pc.fill_null(field, ""), ""), "0", field)
    return np.asarray(pc.cast(cleaned, pa.int64()).to_numpy(zero_copy_only=False), np.int64)


def _read(form: str, parts: pa.StructArray) -> tuple[np.ndarray, np.ndarray]:
    """(valid, microseconds) of the texts that matched ``form``'s regex."""
    year = _ints(parts, "year")
    if form.startswith("quarter"):
        return date_us(year, 3 * _ints(parts, "q") - 2, np.ones_like(year))
    short_year = np.asarray(pc.utf8_length(pc.struct_field(parts, "year")), np.int64) == 2
    year = np.where(short_year, np.where(year < 69, 2000 + year, 1900 + year), year)
    abbreviation = pc.utf8_slice_codeunits(pc.struct_field(parts, "mon"), 0, 3)
    month = np.asarray(pc.index_in(abbreviation, value_set=pa.array(_ABBREVIATIONS)), np.int64)
    ok, us = date_us(year, month + 1, _ints(parts, "day"))
    separators = pc.equal(pc.struct_field(parts, "s1"), pc.struct_field(parts, "s2"))
    ok &= np.asarray(separators, dtype=bool)
    if form == "month_first":  # a comma after the day only before a space
        comma = np.asarray(pc.equal(pc.struct_field(parts, "comma"), ","), dtype=bool)
        space = np.asarray(pc.equal(pc.struct_field(parts, "s2"), " "), dtype=bool)
        ok &= ~comma | space
    hours = _ints(parts, "h")
    ok &= hours <= 23
    clock = (hours * 3600 + _ints(parts, "mi") * 60 + _ints(parts, "sec")) * US_PER_SECOND
    return ok, np.where(ok, us + clock, 0)


def parse_named_dates(text: pa.Array, rows: np.ndarray) -> NamedDates:
    """Read the texts at ``rows`` (trimmed, from ``candidates``) as month-name dates or
    quarters; the forms are tried on what earlier ones left, the commonest in a sample first
    (a text fits one form at most)."""
    found_rows, found_us, found_quarter = [], [], []
    lowered = pc.ascii_lower(text.take(pa.array(rows, type=pa.int64())))
    some_form = np.asarray(pc.match_substring_regex(lowered, _ANY_FORM), dtype=bool)
    remaining = rows[some_form]
    lowered = lowered.filter(pa.array(some_form))
    sample = lowered.slice(0, _SAMPLE)
    hits = {form: -pc.match_substring_regex(sample, p).true_count for form, p in _FORMS.items()}
    for form in sorted(_FORMS, key=lambda f: hits[f]):
        if not remaining.size:
            break
        parts = pc.extract_regex(lowered, _FORMS[form])
        matched = np.asarray(parts.is_valid(), dtype=bool)
        if not matched.any():
            continue
        at = np.flatnonzero(matched)
        ok, us = _read(form, parts.filter(pa.array(matched)))
        found_rows.append(remaining[at[ok]])
        found_us.append(us[ok])
        found_quarter.append(np.full(int(ok.sum()), form.startswith("quarter")))
        keep = ~matched
        remaining, lowered = remaining[keep], lowered.filter(pa.array(keep))
    if not found_rows:
        empty = np.zeros(0, dtype=np.int64)
        return NamedDates(rows=empty, us=empty, quarter=np.zeros(0, dtype=bool))
    return NamedDates(
        rows=np.concatenate(found_rows),
        us=np.concatenate(found_us),
        quarter=np.concatenate(found_quarter),
    )
