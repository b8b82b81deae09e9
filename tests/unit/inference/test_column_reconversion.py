"""sluice.inference.column_reconversion: re-typing only the columns whose type changed gives
the part a conversion of every column would have written."""

from __future__ import annotations

import pyarrow as pa
from sluice.inference.column_reconversion import changed_columns, merged_exceptions, reconvert
from sluice.inference.conversion import EXCEPTIONS, EXCEPTIONS_TYPE, convert_table
from sluice.inference.types import ColumnType, DateOrder
from sluice.ingest.models import ColumnPlan

TEXTS = pa.table(
    {
        "a": ["1", "x", "3", None, "5"],
        "b": ["1.5", "2", "y", "4", "z"],
        "c": ["2024-01-02", "bad", "2024-03-04", "2024-01-01", "no"],
        "d": ["p", "q", "p", "q", "r"],
    }
)
WRITTEN = [
    ColumnPlan(name="a", type=ColumnType.INT64),
    ColumnPlan(name="b", type=ColumnType.INT64),
    ColumnPlan(name="c", type=ColumnType.DATETIME, date_order=DateOrder.ISO),
    ColumnPlan(name="d", type=ColumnType.STRING),
]
DECIDED = [
    ColumnPlan(name="a", type=ColumnType.INT64),
    ColumnPlan(name="b", type=ColumnType.FLOAT64),
    ColumnPlan(name="c", type=ColumnType.STRING),
    ColumnPlan(name="d", type=ColumnType.CATEGORY),
]


def test_the_changed_columns_are_those_whose_type_or_date_order_differs() -> None:
    day_first = ColumnPlan(name="c", type=ColumnType.DATETIME, date_order=DateOrder.DMY)
    assert changed_columns(WRITTEN, DECIDED) == ["b", "c", "d"]
    assert changed_columns(WRITTEN, [*WRITTEN[:2], day_first, WRITTEN[3]]) == ["c"]
    assert changed_columns(WRITTEN, WRITTEN) == []


def test_plans_of_other_columns_cannot_be_compared() -> None:
    assert changed_columns(WRITTEN, DECIDED[:3]) is None
    assert changed_columns(WRITTEN, list(reversed(DECIDED))) is None


def test_reconverting_the_changed_columns_writes_what_a_full_conversion_writes() -> None:
    part, _ = convert_table(TEXTS, WRITTEN)
    changed = ["b", "c", "d"]
    again, failed = reconvert(
        part.select(["a", EXCEPTIONS]), TEXTS.select(changed), DECIDED, changed
    )
    expected, expected_failed = convert_table(TEXTS, DECIDED)
    assert again.equals(expected)
    assert (failed, expected_failed) == (3, 3)
    assert again.column(EXCEPTIONS).to_pylist() == [
        [],
        [("a", "x")],
        [("b", "y")],
        [],
        [("b", "z")],
    ]


def test_a_reconverted_column_that_now_fails_joins_the_row_entries_in_column_order() -> None:
    part, _ = convert_table(TEXTS, DECIDED)
    plans = [DECIDED[0], DECIDED[1], WRITTEN[2], DECIDED[3]]
    again, failed = reconvert(part, TEXTS.select(["c"]), plans, ["c"])
    expected, expected_failed = convert_table(TEXTS, plans)
    assert again.equals(expected)
    assert failed == expected_failed == 5
    assert again.column(EXCEPTIONS).to_pylist()[1] == [("a", "x"), ("c", "bad")]


def test_merging_exceptions_of_a_sliced_part_reads_only_its_rows() -> None:
    entries = [[("a", "1")], [("a", "2"), ("b", "3")], [("b", "4")]]
    sliced = pa.array(entries, EXCEPTIONS_TYPE).slice(1, 2)
    merged = merged_exceptions(sliced, {"a"}, ["a", "b"], [])
    assert merged.to_pylist() == [[("b", "3")], [("b", "4")]]
