"""Describe's top values of text columns: each part's counts, summed per value bucket."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
from sluice.operations.library.describe import TEXT_VALUE, _text_counts, _top_per_column


def _part(first: int, rows: int) -> pa.Table:
    """An id-like text column (every value its own) and a repeated one with nulls."""
    ids = [f"order {first + i}" for i in range(rows)]
    kinds = [None if i % 9 == 0 else f"kind {(first + i) % 7}" for i in range(rows)]
    return pa.table({"ids": ids, "kinds": kinds})


def test_a_parts_distinct_texts_go_as_they_are_and_repeated_ones_counted() -> None:
    counts = _text_counts(_part(0, 5000), ["ids", "kinds"])
    ids = counts.filter(pc.equal(counts["__column"], 0))
    kinds = counts.filter(pc.equal(counts["__column"], 1))
    assert ids.num_rows == 5000 and set(ids["__count"].to_pylist()) == {1}
    assert sorted(kinds[TEXT_VALUE].to_pylist()) == [f"kind {k}" for k in range(7)]
    assert sum(kinds["__count"].to_pylist()) == 5000 - len(range(0, 5000, 9))


def test_the_top_values_over_parts_are_the_exact_counts_ties_by_value() -> None:
    parts = [_part(0, 5000), _part(4000, 5000)]  # ids 4000-4999 in both parts
    counts = pa.concat_tables(_text_counts(p, ["ids", "kinds"]) for p in parts)
    top = _top_per_column(counts, 4)
    for position, name in enumerate(["ids", "kinds"]):
        counted = Counter(v for p in parts for v in p[name].to_pylist() if v is not None)
        expected = sorted(counted.items(), key=lambda item: (-item[1], item[0]))[:4]
        assert top[position] == [[value, count] for value, count in expected], name
    assert top[0] == [["order 4000", 2], ["order 4001", 2], ["order 4002", 2], ["order 4003", 2]]
