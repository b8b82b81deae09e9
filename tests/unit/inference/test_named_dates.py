"""Month-name dates and quarters: the vectorised parser against the grammar it documents.

The reference reads each text alone with Python's ``datetime.strptime`` over every format
of the grammar (``%b``/``%B`` names, ``%d``, ``%Y``/``%y``, a time as on numeric dates) and
a quarter by its regex; random texts in and near every form must get its answer.
"""

from __future__ import annotations

import random
import re
from datetime import datetime

import numpy as np
import pyarrow as pa
import pytest
from sluice.inference import column_parse, named_dates, time_parsing
from sluice.inference.schema import InferenceSettings
from sluice.inference.statistics import chunk_stats, decide, merge_stats
from sluice.inference.string_bytes import StringBytes
from sluice.inference.types import MONTH_NAMES, ColumnType, DateOrder

_DATE_FORMATS: list[str] = []
for _mon in ("%b", "%B"):
    for _sep in "-/. ":
        for _year in ("%Y", "%y"):
            _DATE_FORMATS += [f"{_mon}{_sep}%d{_sep}{_year}", f"%d{_sep}{_mon}{_sep}{_year}"]
        _DATE_FORMATS.append(f"%Y{_sep}{_mon}{_sep}%d")
    for _year in ("%Y", "%y"):
        _DATE_FORMATS += [f"{_mon} %d, {_year}", f"%d{_mon}{_year}"]
_TIME_FORMATS = ("%H:%M", "%H:%M:%S")
_WITH_TIME = re.compile(r"(.*?)(?:[ Tt](\d{1,2}:\d\d(?::\d\d)?))?")
_QUARTER = re.compile(r"(?i)(\d{4})[- ]?q([1-4])|q([1-4])[- ](\d{4})")


def _strptime(text: str, formats: tuple[str, ...] | list[str]) -> datetime | None:
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def reference(text: str) -> tuple[datetime | None, bool]:
    """(the date the grammar reads, whether it is a quarter), one text at a time."""
    quarter = _QUARTER.fullmatch(text)
    if quarter:
        year = int(quarter[1] or quarter[4])
        number = int(quarter[2] or quarter[3])
        return (datetime(year, 3 * number - 2, 1), True) if year else (None, False)
    # strptime reads a format's space as any run of whitespace, and %d as " 5" too: the
    # grammar has single spaces.
    if "  " in text or re.search(r"[^\S ]", text):
        return None, False
    split = _WITH_TIME.fullmatch(text)
    assert split is not None
    day_text, clock_text = split[1], split[2]
    day_text = re.sub(r"(?i)sept(?![a-z])", "sep", day_text)  # strptime's %b knows Sep only
    day = _strptime(day_text, _DATE_FORMATS)
    if day is None:
        return None, False
    if clock_text is None:
        return day, False
    clock = _strptime(clock_text, _TIME_FORMATS)
    if clock is None:
        return None, False
    return day.replace(hour=clock.hour, minute=clock.minute, second=clock.second), False


def _month(rng: random.Random) -> str:
    name = rng.choice([*MONTH_NAMES, "september"])
    spelled = rng.choice([name, name[:3], "sept" if name == "september" else name[:3]])
    case = rng.random()
    if case < 0.4:
        return spelled.capitalize()
    return spelled.upper() if case < 0.6 else spelled


def _year(rng: random.Random, short: bool) -> str:
    if short:
        return f"{rng.randint(0, 99):02d}"
    return f"{rng.choice([rng.randint(0, 9999), rng.randint(1900, 2100), 2024, 0]):04d}"


def _named_text(rng: random.Random) -> str:
    form = rng.randrange(6)
    day_number = rng.choice([rng.randint(0, 32), rng.randint(1, 28)])
    day = f"{day_number:02d}" if rng.random() < 0.5 else str(day_number)
    sep = rng.choice("-/. ") if rng.random() < 0.95 else rng.choice(["", ",", "_"])
    other = sep if rng.random() < 0.9 else rng.choice("-/. ")
    short = rng.random() < 0.25
    if form == 0:
        comma = "," if rng.random() < 0.3 else ""
        text = f"{_month(rng)}{sep}{day}{comma}{other}{_year(rng, short)}"
    elif form == 1:
        text = f"{day}{sep}{_month(rng)}{other}{_year(rng, short)}"
    elif form == 2:
        text = f"{day}{_month(rng)}{_year(rng, short)}"
    elif form == 3:
        text = f"{_year(rng, short)}{sep}{_month(rng)}{other}{day}"
    else:
        q = rng.choice(["Q", "q"]) + str(rng.randint(0, 5))
        year = _year(rng, short)
        join = rng.choice(["", "-", " ", "/"])
        text = f"{year}{join}{q}" if form == 4 else f"{q}{join}{year}"
    if form < 4 and rng.random() < 0.3:
        clock = f"{rng.randint(0, 25)}:{rng.randint(0, 61):02d}"
        if rng.random() < 0.5:
            clock += f":{rng.randint(0, 61):02d}"
        text += rng.choice([" ", "T", "t", "_"]) + clock
    return text


def _mutated(text: str, rng: random.Random) -> str:
    """A near-valid text: one character dropped, doubled, swapped or replaced."""
    at = rng.randrange(len(text))
    kind = rng.randrange(4)
    if kind == 0:
        return text[:at] + text[at + 1 :]
    if kind == 1:
        return text[:at] + text[at] + text[at:]
    if kind == 2 and at + 1 < len(text):
        return text[:at] + text[at + 1] + text[at] + text[at + 2 :]
    return text[:at] + rng.choice("0123456789 -/.,aeqQtTxJ") + text[at + 1 :]


def named_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        text = _named_text(rng)
        if rng.random() < 0.25:
            text = _mutated(text, rng)
        text = text.strip(" ")
        if re.search("[A-Za-z]", text):  # else a numeric date, judged by its own tests
            out.append(text)
    return out


NAMED_TEXTS = [
    *named_texts(3000, seed=11),
    "Jan-1-1995",
    "1 Jan 2020",
    "January 5, 2021",
    "05-Jan-2021",
    "1974Q1",
    "1974-Q2",
    "Q3 1974",
    "1974 Q4",
    "Sept 30 2021",
    "29 Feb 2023",
    "29 Feb 2024",
]


def test_the_fuzz_covers_every_form_valid_and_not() -> None:
    read = [reference(t) for t in NAMED_TEXTS]
    assert sum(d is not None for d, _ in read) > len(read) // 3
    assert sum(d is None for d, _ in read) > len(read) // 5
    assert sum(q for _, q in read) > 100
    assert sum(d is not None and d.hour > 0 for d, _ in read) > 50


def test_month_names_and_quarters_parse_as_the_grammar_reads_them() -> None:
    expected = [reference(t) for t in NAMED_TEXTS]
    results, quarters = time_parsing.datetime_readings(pa.array(NAMED_TEXTS))
    for order in DateOrder:  # a month name fits every date order
        passes, values = results[order.value]
        got = [
            v if ok else None for ok, v in zip(passes.to_pylist(), values.to_pylist(), strict=True)
        ]
        wrong = [
            (t, g, e) for t, g, (e, _) in zip(NAMED_TEXTS, got, expected, strict=True) if g != e
        ]
        assert wrong == [], wrong[:10]
    assert quarters.to_pylist() == [q for _, q in expected]


def test_the_byte_prefilter_keeps_every_text_the_grammar_reads() -> None:
    text = pa.array(NAMED_TEXTS)
    kept = set(named_dates.candidates(StringBytes.of(text), np.arange(len(text))).tolist())
    read = {i for i, t in enumerate(NAMED_TEXTS) if reference(t)[0] is not None}
    assert read <= kept


def test_words_and_numbers_never_reach_the_month_name_regexes() -> None:
    texts = ["apple", "banana split", "North-East", "12.5", "-3", "K-1234", "March", "Q1", "x" * 60]
    text = pa.array(texts)
    assert named_dates.candidates(StringBytes.of(text), np.arange(len(text))).tolist() == []


def test_a_mixed_column_of_few_distinct_texts_reads_as_its_rows_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(3)
    cells = ["Jan-1-1995", "1974Q1", "Q2 1975", "05/01/2024", "2024-01-05", None, "x"]
    table = pa.table({"c": pa.array([rng.choice(cells) for _ in range(4000)], pa.string())})
    by_distinct = chunk_stats(table, 100)
    monkeypatch.setattr(column_parse, "_DISTINCT_SHARE", 0.0)
    by_rows = chunk_stats(table, 100)
    assert by_rows == by_distinct
    assert by_rows.columns[0].quarters == sum(
        1 for v in table.column("c").to_pylist() if v in ("1974Q1", "Q2 1975")
    )


def _decided(values: list[str], tolerance: int = 0) -> tuple[str, list[str], str | None]:
    table = pa.table({"c": pa.array(values, pa.string())})
    stats = merge_stats(
        [chunk_stats(table.slice(0, 2), 100), chunk_stats(table.slice(2), 100)], 100
    )
    (column,) = decide(stats, InferenceSettings(tolerance=tolerance, max_categories=1))
    order = None if column.date_order is None else column.date_order.value
    return column.inferred_type.value, column.notes, order


def test_month_name_columns_are_datetime_in_every_common_order() -> None:
    for values in (
        ["Jan-1-1995", "Feb-1-1995", "Mar-1-1995", "Apr-1-1995"],
        ["1 Jan 2020", "2 Feb 2020", "13 Mar 2020", "30 Apr 2020"],
        ["January 5, 2021", "February 15, 2021", "March 31, 2021", "Sept 1, 2021"],
        ["05-Jan-2021", "06-JAN-2021", "07-jan-21", "08-Jan-2021 10:30"],
    ):
        assert _decided(values) == ("datetime", [], "iso"), values


def test_quarters_are_dates_at_the_quarters_start_with_a_note() -> None:
    kind, notes, _ = _decided(["1974Q1", "1974Q2", "1974-Q3", "Q4 1974", "1975 Q1"])
    assert kind == "datetime"
    assert notes == [
        "5 values are quarters (like 1974Q1), read as the quarter's first day (1974-01-01)"
    ]


def test_month_names_among_day_first_dates_keep_the_day_order() -> None:
    kind, notes, order = _decided(["05-Jan-2021", "15/03/2021", "16/03/2021", "1 Feb 2021"])
    assert (kind, order) == ("datetime", "dmy")
    assert notes == ["D/M/Y: 0 values fail it, M/D/Y: 2 do"]


def test_a_value_that_is_no_date_fails_and_is_sampled() -> None:
    table = pa.table({"c": pa.array(["Jan-1-1995", "Jan-32-1995", "Feb-2-1995"] * 2)})
    column = chunk_stats(table, 100).columns[0]
    assert column.failures["datetime:iso"] == 2
    assert column.samples["datetime:iso"] == ["Jan-32-1995", "Jan-32-1995"]
    assert _decided(["Jan-1-1995", "Jan-32-1995", "Feb-2-1995", "Mar-3-1995"], 1)[0] == "datetime"
    assert ColumnType.DATETIME.value == "datetime"
