"""Dates written in ten bytes (``2024-03-15``, ``15/03/2024``), parsed with numpy.

Most date columns write every date zero-padded without a time. For those values the
digits sit at fixed positions, so a (rows, 10) byte matrix gives year, month and day
with a few array operations instead of a strptime call per format. The result is the
same as ``text_parsing``'s strptime path (the tests compare the two): the same formats
(``types.DATE_PARTS``: one separator used twice), the same refusal of impossible days
(2024-02-30), the same earliest year (1). Values this module does not handle (other
lengths, other shapes, year 0) are left to that path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sluice.tables.string_bytes import DIGITS, StringBytes, byte_set

WIDTH = 10
US_PER_DAY = 86_400_000_000
_YEAR_FIRST_SEPARATORS = byte_set(b"-/")
_YEAR_LAST_SEPARATORS = byte_set(b"/-.")
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


@dataclass(frozen=True)
class FixedDates:
    """What the ten-byte parser made of some rows of a text array."""

    handled: np.ndarray  # row numbers it decided (each row's result below is final)
    iso_ok: np.ndarray  # per handled row: a valid year-first date
    first_ok: np.ndarray  # a valid month-first (M/D/Y) date
    day_first_ok: np.ndarray  # a valid day-first (D/M/Y) date
    iso_us: np.ndarray  # microseconds since the epoch, where iso_ok
    first_us: np.ndarray  # where first_ok
    day_first_us: np.ndarray  # where day_first_ok


def _number(digits: np.ndarray, first: int, width: int) -> np.ndarray:
    value = digits[:, first].astype(np.int64)
    for column in range(first + 1, first + width):
        value = value * 10 + digits[:, column]
    return value


def _valid(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    longest = _DAYS_IN_MONTH[np.where(month_ok, month, 0)] + (leap & (month == 2))
    return month_ok & (day >= 1) & (day <= longest)


def _epoch_us(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Microseconds since 1970-01-01 of valid dates (H. Hinnant's days_from_civil)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return (era * 146_097 + doe - 719_468) * US_PER_DAY


def _year_first(digits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    year, month, day = _number(digits, 0, 4), _number(digits, 5, 2), _number(digits, 8, 2)
    ok = (year >= 1) & _valid(year, month, day)
    return ok, np.where(ok, _epoch_us(year, month, day), 0)


def _year_last(digits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    year, a, b = _number(digits, 6, 4), _number(digits, 0, 2), _number(digits, 3, 2)
    real_year = year >= 1
    first_ok = real_year & _valid(year, a, b)
    day_first_ok = real_year & _valid(year, b, a)
    return (
        first_ok,
        np.where(first_ok, _epoch_us(year, a, b), 0),
        day_first_ok,
        np.where(day_first_ok, _epoch_us(year, b, a), 0),
    )


def parse_fixed_dates(view: StringBytes, rows: np.ndarray) -> FixedDates:
    """Parse the values at ``rows`` that are ten bytes in a date's shape."""
    rows = rows[view.lengths[rows] == WIDTH]
    m = view.fixed_width(rows, WIDTH)
    is_digit = DIGITS[m]
    digits = m.astype(np.int16) - ord("0")
    year_first = (
        is_digit[:, [0, 1, 2, 3, 5, 6, 8, 9]].all(axis=1)
        & _YEAR_FIRST_SEPARATORS[m[:, 4]]
        & (m[:, 4] == m[:, 7])
    )
    year_last = (
        is_digit[:, [0, 1, 3, 4, 6, 7, 8, 9]].all(axis=1)
        & _YEAR_LAST_SEPARATORS[m[:, 2]]
        & (m[:, 2] == m[:, 5])
    )
    # Year 0 fails (the earliest timestamp kept is 0001-01-01), as on the strptime path.
    handled = year_first | year_last
    keep = np.flatnonzero(handled)
    n = len(keep)
    iso_ok, iso_us = np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64)
    first_ok, first_us = np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64)
    day_first_ok, day_first_us = np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64)
    at_first = np.flatnonzero(year_first[keep])
    at_last = np.flatnonzero(year_last[keep])
    iso_ok[at_first], iso_us[at_first] = _year_first(digits[keep[at_first]])
    (
        first_ok[at_last],
        first_us[at_last],
        day_first_ok[at_last],
        day_first_us[at_last],
    ) = _year_last(digits[keep[at_last]])
    return FixedDates(
        handled=rows[keep],
        iso_ok=iso_ok,
        first_ok=first_ok,
        day_first_ok=day_first_ok,
        iso_us=iso_us,
        first_us=first_us,
        day_first_us=day_first_us,
    )
