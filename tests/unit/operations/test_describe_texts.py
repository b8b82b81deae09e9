"""Describe's top values of text columns: each part's counts, summed per value bucket."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
from sluice.operations.describe_texts import (
    COUNT,
    TEXT_COLUMN,
    TEXT_HASH,
    TEXT_VALUE,
    partition,
    text_counts,
    top_per_column,
)


def _part(first: int, rows: int) -> pa.Table:
    """An id-like text column (every value its own) and a repeated one with nulls."""
    ids = [f"order {first + i}" for i in range(rows)]
    kinds = [None if i % 9 == 0 else f"kind {(first + i) % 7}" for i in range(rows)]
    return pa.table({"ids": ids, "kinds": kinds})


def test_a_parts_distinct_texts_go_as_they_are_and_repeated_ones_counted() -> None:
    counts = text_counts(_part(0, 5000), ["ids", "kinds"])
    ids = counts.filter(pc.equal(counts["__column"], 0))
    kinds = counts.filter(pc.equal(counts["__column"], 1))
    assert ids.num_rows == 5000 and set(ids["__count"].to_pylist()) == {1}
    assert sorted(kinds[TEXT_VALUE].to_pylist()) == [f"kind {k}" for k in range(7)]
    assert sum(kinds["__count"].to_pylist()) == 5000 - len(range(0, 5000, 9))


def test_the_top_values_over_parts_are_the_exact_counts_ties_by_value() -> None:
    parts = [_part(0, 5000), _part(4000, 5000)]  # ids 4000-4999 in both parts
    counts = pa.concat_tables(partition(text_counts(p, ["ids", "kinds"]), 1)[0] for p in parts)
    top = top_per_column(counts, 4)
    for position, name in enumerate(["ids", "kinds"]):
        counted = Counter(v for p in parts for v in p[name].to_pylist() if v is not None)
        expected = sorted(counted.items(), key=lambda item: (-item[1], item[0]))[:4]
        assert top[position] == [[value, count] for value, count in expected], name
    assert top[0] == [["order 4000", 2], ["order 4001", 2], ["order 4002", 2], ["order 4003", 2]]


def test_a_value_goes_to_one_bucket_from_every_part_with_its_hash() -> None:
    parts = [_part(0, 3000), _part(2000, 3000)]
    split = [partition(text_counts(p, ["ids", "kinds"]), 5) for p in parts]
    for value in ["order 2500", "kind 3"]:
        holding = {
            (b, rows.filter(pc.equal(rows[TEXT_VALUE], value))[TEXT_HASH][0].as_py())
            for buckets in split
            for b, rows in enumerate(buckets)
            if pc.any(pc.equal(rows[TEXT_VALUE], value)).as_py()
        }
        assert len(holding) == 1, value


def test_texts_sharing_a_hash_are_still_counted_apart() -> None:
    counts = pa.table(
        {
            TEXT_COLUMN: pa.array([0, 0, 0, 0, 0], pa.int32()),
            TEXT_VALUE: ["b", "a", "b", "c", "d"],
            COUNT: pa.array([1, 1, 1, 2, 1], pa.int64()),
            TEXT_HASH: pa.array([7, 7, 7, 9, 7], pa.uint32()),  # a, b and d collide
        }
    )
    assert top_per_column(counts, 3) == {0: [["b", 2], ["c", 2], ["a", 1]]}
