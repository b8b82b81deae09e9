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

from sluice.inference.string_bytes import DIGITS, StringBytes, byte_set

WIDTH = 10
US_PER_DAY = 86_400_000_000
_YEAR_FIRST_SEPARATORS = byte_set(b"-/")
_YEAR_LAST_SEPARATORS = byte_set(b"/-.")
_YEARS = np.arange(10_000)
_LEAP = (_YEARS % 4 == 0) & ((_YEARS % 100 != 0) | (_YEARS % 400 == 0))
_YEAR_START = np.concatenate([[0], np.cumsum(365 + _LEAP[:-1])]) - 719_528  # 1970-01-01 = 0
_MONTH_DAYS = np.array(
    [
        [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0, 0, 0],
        [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0, 0, 0],
    ]
)  # [leap][month]: months 0 and 13..15 have no days, so every lookup below is in range
_MONTH_START = np.concatenate([[[0], [0]], np.cumsum(_MONTH_DAYS, axis=1)[:, :-1]], axis=1)
"""Days from the epoch to each year's first day (years 0..9999), and from a year's first
day to each month's (by leap year): a date's day number is three lookups and a sum."""


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


def date_us(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(valid, microseconds since 1970-01-01) of year/month/day numbers (year 0..9999,
    month and day 0..99); an impossible date (month 13, February 30th, year 0) is invalid."""
    leap = _LEAP[year].astype(np.int64)
    month = np.minimum(month, 15)
    ok = (year >= 1) & (day >= 1) & (day <= _MONTH_DAYS[leap, month])
    days = _YEAR_START[year] + _MONTH_START[leap, month] + day - 1
    return ok, np.where(ok, days * US_PER_DAY, 0)


def _year_first(digits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return date_us(_number(digits, 0, 4), _number(digits, 5, 2), _number(digits, 8, 2))


def _year_last(digits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    year, a, b = _number(digits, 6, 4), _number(digits, 0, 2), _number(digits, 3, 2)
    return (*date_us(year, a, b), *date_us(year, b, a))


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
