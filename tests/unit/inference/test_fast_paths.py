"""The fast paths agree with the grammar they shortcut.

Arrow's native number parsers and the ten-byte date parser answer for most values;
the regex and strptime paths answer for the rest. Random texts over each grammar's
alphabet must get the same answer either way, and the answer Python's own parsers
give for the grammar that ``text_parsing`` documents.
"""

from __future__ import annotations

import math
import random
import re
import struct
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from sluice.inference import column_parse, time_parsing
from sluice.inference import text_parsing as tp
from sluice.inference.fixed_dates import parse_fixed_dates
from sluice.inference.statistics import chunk_stats
from sluice.inference.string_bytes import StringBytes
from sluice.inference.types import DATE_PARTS, INTEGER_RANGES

INT64 = (-(2**63), 2**63 - 1)
_FLOAT_TEXT = re.compile(
    r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|(?i:[+-]?(?:inf|infinity|nan))"
)


def _texts(alphabet: str, count: int, longest: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, longest))) for _ in range(count)
    ]


def _int_reference(text: str) -> int | None:
    if re.fullmatch(r"[+-]?\d+", text) is None:
        return None
    value = int(text)
    return value if INT64[0] <= value <= INT64[1] else None


def _float_reference(text: str) -> float | None:
    return float(text) if _FLOAT_TEXT.fullmatch(text) else None


def _one_by_one(parse: object, texts: list[str]) -> list[object]:
    """Each text alone in its array, so that the native path gets its chance at it."""
    out = []
    for text in texts:
        passes, values = parse(pa.array([text]))  # type: ignore[operator]
        out.append(values[0].as_py() if passes[0].as_py() else None)
    return out


INT_TEXTS = [*_texts("0123456789-+", 3000, 21, seed=1), "9223372036854775807", "-0", "+7", "007"]
FLOAT_TEXTS = [*_texts("0123456789+-.eE", 3000, 12, seed=2), "inf", "-Infinity", "nan", "+.5"]


def test_a_native_int_is_an_int_of_the_grammar_with_the_same_value() -> None:
    for text in INT_TEXTS:
        native = tp.native_ints(pa.array([text]))
        if native is not None:
            assert native[0].as_py() == _int_reference(text), text


def test_ints_read_alone_and_together_match_the_grammar() -> None:
    expected = [_int_reference(t) for t in INT_TEXTS]
    passes, values = tp.int_values(pa.array(INT_TEXTS))
    together = [
        v if ok else None for ok, v in zip(passes.to_pylist(), values.to_pylist(), strict=True)
    ]
    assert together == expected
    assert _one_by_one(tp.int_values, INT_TEXTS) == expected


def test_a_native_float_is_a_float_of_the_grammar_with_the_same_value() -> None:
    for text in FLOAT_TEXTS:
        native = tp.native_floats(pa.array([text]))
        if native is not None:
            reference = _float_reference(text)
            assert reference is not None, text
            value = native[0].as_py()
            assert value == reference or (value != value and reference != reference), text


def test_floats_read_alone_and_together_match_the_grammar() -> None:
    def normal(v: float | None) -> object:
        return "nan" if v is not None and v != v else v

    expected = [normal(_float_reference(t)) for t in FLOAT_TEXTS]
    passes, values = tp.float_values(pa.array(FLOAT_TEXTS))
    together = [
        normal(v) if ok else None
        for ok, v in zip(passes.to_pylist(), values.to_pylist(), strict=True)
    ]
    assert together == expected
    assert [normal(v) for v in _one_by_one(tp.float_values, FLOAT_TEXTS)] == expected  # type: ignore[arg-type]


def _float32_holds(text: str) -> bool:
    """float64(float32(x)) == x for the text's float64 x, by the struct module: finite
    values only (inf/nan words pass apart), and of an integer text, only one float64
    holds exactly."""
    value = float(text)
    if text.lstrip("+-").isdigit() and math.isfinite(value) and int(value) != int(text):
        return False  # an integer float64 rounds fails float64, and so float32
    try:
        packed = struct.pack("<f", value)
    except OverflowError:  # past float32's range
        return False
    return math.isfinite(value) and struct.unpack("<f", packed)[0] == value


def test_float32_of_integers_is_decided_as_the_text_path_does() -> None:
    rng = np.random.default_rng(3)
    numbers = np.concatenate(
        [
            rng.integers(-(10**18), 10**18, 2000),
            rng.integers(0, 10**4, 500) * 10 ** rng.integers(0, 14, 500),
            rng.integers(-(2**24), 2**24, 500) << rng.integers(0, 39, 500),
            np.array([0, 9_999_999, 10_000_000, 12_345_670_000, -16_777_217, 2**63 - 1, -(2**63)]),
        ]
    )
    texts = pa.array([str(int(n)) for n in numbers])
    by_number = tp.float32_passes_of_ints(pa.array(numbers, pa.int64()))
    passes64, values64 = tp.float_values(texts)
    by_text = tp.float32_passes_of_float64(texts, passes64, values64)
    assert by_number.to_pylist() == by_text.to_pylist()
    assert by_number.to_pylist() == [_float32_holds(t) for t in texts.to_pylist()]
    assert 0 < by_number.true_count < len(numbers)


def _decimal_texts(count: int, seed: int) -> list[str]:
    """Decimals of 1 to 18 digits, the point anywhere, zeros at either end, exponents,
    and values float32 holds (halves, quarters, powers of two) written out."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 18)))
        digits = rng.choice(["", "0", "000"]) + digits + rng.choice(["", "0", "00000"])
        point = rng.randint(0, len(digits))
        text = rng.choice(["", "-", "+"]) + digits[:point] + "." + digits[point:]
        if rng.random() < 0.3:
            text += f"e{rng.randint(-40, 40)}"
        out.append(text.rstrip(".") if rng.random() < 0.5 else text)
        exact = rng.randint(-(2**24), 2**24) * 2.0 ** rng.randint(-60, 60)
        out.append(repr(exact) if rng.random() < 0.5 else f"{exact:.30f}".rstrip("0"))
    extremes = ["3.4028234663852886e38", "3.4028235677973366e38", "1.1754943508222875e-38"]
    return [*out, "1e-5", "1e7", "10000000", "9999999.5", "0.1000000", "1e-38", *extremes]


def test_float32_of_decimals_is_exact_as_the_docstring_says() -> None:
    texts = [t for t in _decimal_texts(20_000, 11) if t.lstrip("+-") not in (".", "")]
    passes, _ = tp.float32_values(pa.array(texts))
    expected = [_float32_holds(t) for t in texts]
    assert passes.to_pylist() == expected
    assert 10_000 < sum(expected) < len(texts)


def _date_texts(count: int, seed: int) -> list[str]:
    """Ten-byte texts in and near every date shape: valid, impossible and malformed."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        year = rng.choice([rng.randint(1, 9999), rng.randint(1900, 2100), 0, 2000, 1900, 2024])
        month, day = rng.randint(0, 13), rng.randint(0, 32)
        sep, other = rng.choice("-/."), rng.choice("-/.x")
        if rng.random() < 0.5:
            text = f"{year:04d}{sep}{month:02d}{sep if rng.random() < 0.9 else other}{day:02d}"
        else:
            a, b = (month, day) if rng.random() < 0.5 else (day, month)
            text = f"{a:02d}{sep}{b:02d}{sep if rng.random() < 0.9 else other}{year:04d}"
        out.append(text)
    return out


def _date_reference(text: str, family: str) -> datetime | None:
    families = ("iso",) if family == "iso" else ("iso", family)
    for fam in families:
        for fmt in DATE_PARTS[fam]:
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
    return None


DATE_TEXTS = [*_date_texts(4000, seed=4), "2024-02-29", "2023-02-29", "29/02/2000", "31/04/2024"]


@pytest.mark.parametrize("family", ["iso", "mdy", "dmy"])
def test_ten_byte_dates_parse_as_strptime_reads_their_formats(family: str) -> None:
    results = time_parsing.datetime_values_all_orders(pa.array(DATE_TEXTS))
    passes, values = results[family]
    got = [v if ok else None for ok, v in zip(passes.to_pylist(), values.to_pylist(), strict=True)]
    assert got == [_date_reference(t, family) for t in DATE_TEXTS]


def test_the_ten_byte_parser_and_the_strptime_path_agree() -> None:
    text = pa.array(DATE_TEXTS)
    fixed = parse_fixed_dates(StringBytes.of(text), np.arange(len(text)))
    assert len(fixed.handled) > len(text) // 2  # the rest: shapes it leaves to strptime
    slow = time_parsing._datetime_dense(text.take(pa.array(fixed.handled)), ["iso", "mdy", "dmy"])
    assert (slow["iso"][0] == fixed.iso_ok).all()
    assert (slow["mdy"][0] == (fixed.first_ok | fixed.iso_ok)).all()
    assert (slow["dmy"][0] == (fixed.day_first_ok | fixed.iso_ok)).all()
    ok = fixed.first_ok
    assert (slow["mdy"][1][ok] == fixed.first_us[ok]).all()
    ok = fixed.day_first_ok
    assert (slow["dmy"][1][ok] == fixed.day_first_us[ok]).all()
    ok = fixed.iso_ok
    assert (slow["iso"][1][ok] == fixed.iso_us[ok]).all()


def test_whitespace_around_values_is_trimmed_only_when_present() -> None:
    clean = pa.array(["a", "b c", None])
    assert tp.prepare(clean) is clean
    assert tp.prepare(pa.array([" a", "b\t", "\u00a0c"])).to_pylist() == ["a", "b", "c"]


def test_a_column_of_few_distinct_texts_gets_the_stats_of_reading_every_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(5)
    cells = ["yes", " no", "7", "2024-01-05", "05/01/2024", "1:02:03", "x", None, "", "3.5"]
    table = pa.table({"c": pa.array([rng.choice(cells) for _ in range(5000)], pa.string())})
    by_distinct = chunk_stats(table, 100)
    monkeypatch.setattr(column_parse, "_DISTINCT_SHARE", 0.0)
    assert chunk_stats(table, 100) == by_distinct
    assert by_distinct.columns[0].failures["bool"] > 0


def test_a_column_parsed_on_its_distinct_texts_hands_them_over_as_its_dictionary() -> None:
    rng = random.Random(6)
    cells = [" padded ", "Song, Pt. 2", "x", None, ""]
    texts = pa.array([rng.choice(cells) for _ in range(5000)], pa.string())
    encoded = column_parse.parse_column(texts).encoded()
    assert encoded is not None
    assert encoded.cast(pa.string()).equals(texts)  # untrimmed, nulls where they were
    numbers = pa.array([str(i) for i in range(5000)])
    assert column_parse.parse_column(numbers).encoded() is None


@pytest.mark.parametrize("position", [0, 1, 4, -1, -2, -5])
def test_byte_at_reads_each_values_byte_and_zero_where_too_short(position: int) -> None:
    texts = ["", None, "a", "ab", "abcde", "é", "xyz", None, "last"]
    arr = pa.array(texts).slice(1)  # an offset into the buffers, too
    expected = []
    for text in texts[1:]:
        raw = (text or "").encode()
        fits = len(raw) > position if position >= 0 else len(raw) >= -position
        expected.append(raw[position] if fits else 0)
    assert StringBytes.of(arr).byte_at(position).tolist() == expected


def test_byte_at_of_values_that_are_all_empty_is_zero() -> None:
    assert StringBytes.of(pa.array(["", None, ""])).byte_at(-1).tolist() == [0, 0, 0]


def test_bools_of_numbers_agree_with_the_word_parser_on_number_texts() -> None:
    rng = random.Random(5)
    texts = [
        rng.choice(["0", "1", "2", "10", "01", "-1", "+1", "1.0", "0.5", "1e0", "100000"])
        for _ in range(2000)
    ]
    arr = pa.array([*texts, None])
    by_digits = tp.bools_of_numbers(arr)
    by_words = tp.bool_mask_and_values(arr, trimmed=True)
    assert by_digits[0].to_pylist() == by_words[0].to_pylist()
    assert by_digits[1].to_pylist() == by_words[1].to_pylist()


def test_a_columns_native_cast_is_made_once_and_asked_again_for_free() -> None:
    text = pa.array(["1", "22", None, "-3"])
    first = tp.native_ints(text)
    assert first is not None and first.to_pylist() == [1, 22, None, -3]
    assert tp.native_ints(text) is first
    assert tp.native_ints(pa.array(["1", "22", None, "-3"])) is not first  # another column


def _numbers_among_words(references: dict[str, object]) -> list[str | None]:
    """Number texts Arrow reads itself, with words, blanks and nulls between them."""
    readable = [t for t, v in references.items() if v is not None and "+" not in t]
    rows: list[str | None] = []
    for i, text in enumerate(readable[:500]):
        rows += [text, ["B-8077", "x1", None][i % 3]]
    return rows


def _read(parse: object, texts: list[str | None]) -> list[object]:
    passes, values = parse(pa.array(texts, pa.string()))  # type: ignore[operator]
    return [v if ok else None for ok, v in zip(passes.to_pylist(), values.to_pylist(), strict=True)]


@pytest.mark.parametrize(
    ("parse", "reference", "texts"),
    [(tp.int_values, _int_reference, INT_TEXTS), (tp.float_values, _float_reference, FLOAT_TEXTS)],
    ids=["ints", "floats"],
)
def test_numbers_among_words_are_read_by_one_native_cast_of_the_numbers(
    monkeypatch: pytest.MonkeyPatch, parse: Any, reference: Any, texts: list[str]
) -> None:
    rows = _numbers_among_words({t: reference(t) for t in texts})
    expected = [None if t is None else reference(t) for t in rows]
    monkeypatch.setattr(tp, "on_rows", lambda *_: pytest.fail("the regex path ran"))
    assert _read(parse, rows) == expected


def test_numbers_among_words_that_arrow_refuses_are_read_by_the_grammar() -> None:
    texts = ["+7", "B-8077", "12", "1-2", "99999999999999999999", None]
    assert _read(tp.int_values, texts) == [7, None, 12, None, None, None]


def test_a_column_of_few_distinct_padded_numbers_gets_the_stats_of_reading_every_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(6)
    cells = [" 7", "12 ", "-3", None, "40"]
    table = pa.table({"c": pa.array([rng.choice(cells) for _ in range(5000)], pa.string())})
    by_distinct = chunk_stats(table, 100)
    monkeypatch.setattr(column_parse, "_DISTINCT_SHARE", 0.0)
    assert chunk_stats(table, 100) == by_distinct
    assert by_distinct.columns[0].failures["int8"] == 0


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["2024-01-31"] * 3000, None),  # digits and signs, yet no int: the first values say so
        (["12"] * 2000 + ["2024-01-31"], None),  # past the first values: the whole cast says
        (["12"] * 2000 + ["x"], None),  # a byte not of the alphabet past the first values
        (["12", None] * 1500, [12, None] * 1500),
    ],
    ids=["dates", "a-late-date", "a-late-word", "ints"],
)
def test_a_native_cast_reads_every_value_or_none(
    texts: list[str | None], expected: list[int | None] | None
) -> None:
    cast = tp.native_ints(pa.array(texts, pa.string()))
    assert (None if cast is None else cast.to_pylist()) == expected


@pytest.mark.parametrize(
    "values",
    [[1, None, 127, -128], [1, None, 300, -5], [2**40, -3, None], [None, None], [-(2**63), 5]],
    ids=["int8", "int16", "int64", "nulls", "int64-min"],
)
def test_integer_range_masks_say_which_values_fit_each_type(values: list[int | None]) -> None:
    masks = tp.int_range_masks(pa.array(values, pa.int64()))
    for column_type, (low, high) in INTEGER_RANGES.items():
        expected = [v is not None and low <= v <= high for v in values]
        assert masks[column_type].to_pylist() == expected, column_type
