"""Which parts a column profile reads, and its top values' order."""

from __future__ import annotations

import pyarrow as pa
from sluice.datasets.manifest import Part
from sluice.operations.column_profile import TopValue, parts_to_read, top_values_of


def parts(count: int, rows: int) -> list[Part]:
    return [Part(key=f"p{i}", first_row=i * rows, rows=rows, bytes=1) for i in range(count)]


def test_every_part_is_read_when_they_fit_the_limit() -> None:
    assert [p.key for p in parts_to_read(parts(4, 10), 40)] == ["p0", "p1", "p2", "p3"]


def test_past_the_limit_parts_are_spaced_evenly_from_the_first() -> None:
    assert [p.key for p in parts_to_read(parts(10, 10), 30)] == ["p0", "p3", "p6"]


def test_one_part_is_read_when_even_one_passes_the_limit() -> None:
    assert [p.key for p in parts_to_read(parts(5, 100), 10)] == ["p0"]


def test_top_values_go_by_count_then_value_and_count_the_distinct() -> None:
    column = pa.chunked_array([["b", "a", None, "c", "b", "a", "ü"]]).dictionary_encode()
    values, distinct = top_values_of(column, 3)
    assert values == [
        TopValue(value="a", count=2),
        TopValue(value="b", count=2),
        TopValue(value="c", count=1),
    ]
    assert distinct == 4
