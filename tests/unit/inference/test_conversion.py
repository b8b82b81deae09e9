"""Converting text to typed columns: pyarrow's native parse and our text path agree."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from sluice.csv.scan import is_ascii, parse_native, parse_text
from sluice.inference import conversion
from sluice.inference.column_parse import few_distinct
from sluice.inference.conversion import (
    FALSE_SPELLINGS,
    TRUE_SPELLINGS,
    convert_table,
    may_hold_rounded_integers,
    native_types,
)
from sluice.inference.types import ColumnType, DateOrder
from sluice.ingest.models import ColumnPlan

COLUMNS = ["n", "x", "ok", "when", "label"]
PLANS = [
    ColumnPlan(name="n", type="int16"),
    ColumnPlan(name="x", type="float32"),
    ColumnPlan(name="ok", type="bool"),
    ColumnPlan(name="when", type="datetime", date_order="dmy"),
    ColumnPlan(name="label", type="category"),
]
NA = ["", "NA"]


def both_paths(body: bytes) -> tuple[tuple[pa.Table, int], tuple[pa.Table, int]]:
    native = parse_native(body, COLUMNS, NA, native_types(PLANS), TRUE_SPELLINGS, FALSE_SPELLINGS)
    return convert_table(native, PLANS), convert_table(parse_text(body, COLUMNS, NA), PLANS)


def test_the_native_parse_gives_what_the_text_path_gives() -> None:
    body = b"1,2.5,yes,31/12/2024,a\n-7,NA,No,01/02/2024 10:00,b\nNA,1e3,TRUE,,a\n"
    (native, native_failed), (text, text_failed) = both_paths(body)
    assert native.equals(text)
    assert native_failed == text_failed == 0
    assert native.column("ok").to_pylist() == [True, False, True]


def test_a_value_pyarrow_cannot_read_sends_the_chunk_down_the_text_path() -> None:
    with pytest.raises(pa.ArrowInvalid):
        parse_native(
            b"oops,1,yes,,a\n", COLUMNS, NA, native_types(PLANS), TRUE_SPELLINGS, FALSE_SPELLINGS
        )
    typed, failed = convert_table(parse_text(b"oops,1,yes,,a\n", COLUMNS, NA), PLANS)
    assert failed == 1
    assert typed.column("_exceptions").to_pylist() == [[("n", "oops")]]


def test_a_native_int_out_of_the_columns_range_raises_rather_than_wrapping() -> None:
    native = parse_native(
        b"70000,1,yes,,a\n", COLUMNS, NA, native_types(PLANS), TRUE_SPELLINGS, FALSE_SPELLINGS
    )
    with pytest.raises(pa.ArrowInvalid):
        convert_table(native, PLANS)


@pytest.mark.parametrize(
    ("column_type", "texts"),
    [
        (ColumnType.DATETIME, ["2024-01-31", "bad", None, " 2024-02-01 ", "31/01/2024"]),
        (ColumnType.INT8, ["1", "300", None, " -7", "x"]),
        (ColumnType.BOOL, ["yes", "No", None, "maybe", "TRUE"]),
    ],
)
def test_a_column_of_few_distinct_texts_converts_as_when_each_row_is_parsed(
    column_type: ColumnType, texts: list[str | None]
) -> None:
    raw = pa.array(texts * 400, pa.string())
    plan = ColumnPlan(name="c", type=column_type, date_order=DateOrder.ISO)
    assert few_distinct(raw) is not None  # the distinct-text path is taken
    typed, failed = conversion.convert_column(raw, plan)
    passes, values = conversion._parse_texts(raw, plan)
    per_row = pc.if_else(pc.fill_null(passes, False), values, pa.scalar(None, values.type))
    assert typed.equals(per_row.cast(typed.type))
    passed = pc.fill_null(passes, False).to_pylist()
    rows = texts * 400
    assert failed.tolist() == [i for i, t in enumerate(rows) if t is not None and not passed[i]]


def test_texts_past_ascii_are_read_as_written_and_invalid_utf8_is_refused() -> None:
    # An ASCII body skips pyarrow's UTF-8 check (it cannot fail); any other byte keeps it.
    assert is_ascii(b"a,1\n") and not is_ascii("é,1\n".encode())
    table = parse_text("café,1\nnaïve,2\n".encode(), ["word", "n"], NA)
    assert table.column("word").to_pylist() == ["café", "naïve"]
    with pytest.raises(pa.ArrowInvalid, match="UTF8"):
        parse_text(b"caf\xe9,1\n", ["word", "n"], NA)


class _Plan:
    def __init__(self, name: str, column_type: ColumnType) -> None:
        self.name, self.type, self.date_order = name, column_type, None


@pytest.mark.parametrize(
    ("values", "may"),
    [
        ([1.5, None, 2.0**52], False),
        ([1.5, float("inf"), float("nan")], False),  # inf and nan are no integers
        ([1.5, 2.0**60], True),  # 1152921504606846976: an integer text or a rounded one
        ([-(2.0**53)], True),
        ([2.0**60 + 2**8 + 0.5 - 0.5], True),
    ],
)
def test_a_native_float_column_may_hold_a_rounded_integer_only_past_2_to_the_53(
    values: list[float | None], may: bool
) -> None:
    table = pa.table({"x": pa.array(values, pa.float64())})
    assert may_hold_rounded_integers(table, [_Plan("x", ColumnType.FLOAT64)]) is may
