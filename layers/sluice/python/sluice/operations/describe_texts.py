"""Describe's top values of text columns, exact however many distinct texts there are.

Each part counts each text column's values (Arrow's value_counts, a column at a time, or
each value with a count of 1 where they look all but distinct) and hash-partitions the
(column, value, count) rows by value into the value buckets, each row carrying the high
32 bits of its value's 64-bit hash (whose low bits chose the bucket). Each bucket adds
up its counts and cuts them to each column's most frequent: a value whose hash no other
row of its column shares is its own group and keeps its count as sent, so only the rows
sharing a hash (the same value from several parts, or another value whose hash collides)
are grouped by their texts. The texts are hashed once, by the parts: a bucket grouping
them all by text again cost as much as the parts' hashing (the messy file's comments are
all distinct: 7.7M texts at 1 GB).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluice.inference.types import ColumnType
from sluice.operations.sorting import split
from sluice.tasks.aggregate_output import hash_buckets, key_hash

TEXT_COLUMN, TEXT_VALUE, COUNT, TEXT_HASH = "__column", "__value", "__count", "__hash"
"""A text value's count is a row (column position, value, count, hash): one shuffle for
every text column at once."""

DISTINCT_PROBE = 4096
"""How many of a part's first values of a text column are looked at to judge whether
they are all but distinct."""


def all_but_distinct(values: pa.Array) -> bool:
    """Whether at most one in 256 of the first ``DISTINCT_PROBE`` values repeats an
    earlier one: then the part holds about as many distinct values as rows (by the
    birthday bound, 4,096 draws from 180,000 values repeat some 45 times), and counting
    them before the shuffle would hash them all for next to nothing (0.16 s of CPU a part
    for the messy file's comments, every one distinct)."""
    probe = values.slice(0, DISTINCT_PROBE)
    repeats = len(probe) - pc.count_distinct(probe).as_py()
    return len(probe) > 0 and repeats * 256 <= len(probe)


def text_counts(table: pa.Table, texts: list[str]) -> pa.Table:
    """Each text column's count of each of its non-null values in the part, as (column
    position, value, count) rows: a value at a time per column (Arrow's one-key hash
    count), or, where they look all but distinct, each value as it is with a count of
    1 (the bucket adds up either kind alike)."""
    pieces = []
    for position, name in enumerate(texts):
        values = pc.drop_null(table.column(name)).combine_chunks().cast(pa.string())
        if all_but_distinct(values):
            found, counts = values, pa.array(np.ones(len(values), np.int64))
        else:
            counted = pc.value_counts(values)
            found, counts = counted.field("values"), counted.field("counts")
        pieces.append(
            pa.table(
                {
                    TEXT_COLUMN: pa.array(np.full(len(found), position, np.int32)),
                    TEXT_VALUE: found,
                    COUNT: counts,
                }
            )
        )
    return pa.concat_tables(pieces)


def partition(counts: pa.Table, buckets: int) -> list[pa.Table]:
    """A part's counts split by their value's hash into ``buckets`` tables, each row with
    its hash's high 32 bits (``TEXT_HASH``), for the bucket to group by."""
    # One copy of the texts now, not one more for the hash and the take.
    counts = counts.combine_chunks()
    hashed = key_hash([counts.column(TEXT_VALUE)])
    high = (hashed >> np.uint64(32)).astype(np.uint32)
    counts = counts.append_column(TEXT_HASH, pa.array(high))
    return split(counts, hash_buckets(hashed, buckets), buckets)


def _shared(hashes: np.ndarray) -> np.ndarray:
    """Where a hash is another row's too: by a sort of the hashes, which cost two thirds
    of Arrow's value_counts and is_in over a bucket's 32-bit hashes."""
    order = np.argsort(hashes)
    ranked = hashes[order]
    same = ranked[1:] == ranked[:-1]
    flags = np.zeros(len(hashes), dtype=bool)
    flags[1:] |= same
    flags[:-1] |= same
    shared = np.empty(len(hashes), dtype=bool)
    shared[order] = flags
    return shared


def _summed(rows: pa.Table) -> pa.Table:
    """(value, count) rows of one column with each value once, its counts added up: by
    the texts only where rows share a hash (equal values always do)."""
    together = pa.array(_shared(rows.column(TEXT_HASH).to_numpy()))
    alone = rows.filter(pc.invert(together)).select([TEXT_VALUE, COUNT])
    grouped = rows.filter(together).select([TEXT_VALUE, COUNT])
    grouped = grouped.group_by([TEXT_VALUE], use_threads=False).aggregate([(COUNT, "sum")])
    return pa.concat_tables([alone, grouped.rename_columns([TEXT_VALUE, COUNT])])


def top_per_column(counts: pa.Table, top: int) -> dict[int, list[list[Any]]]:
    """Each column position's ``top`` most frequent values in a value bucket's counts (from
    every part), by count then value (the order finish ranks by, so that each bucket's cut
    keeps every value the global top needs). A column at a time. Arrow's select_k keeps
    ``top`` rows with a heap (n log top), where sorting a bucket of mostly distinct texts
    to keep ten of them took 3.6x as long."""
    order = [(COUNT, "descending"), (TEXT_VALUE, "ascending")]
    found: dict[int, list[list[Any]]] = {}
    positions = counts.column(TEXT_COLUMN)
    for position in pc.unique(positions).to_pylist():
        summed = _summed(counts.filter(pc.equal(positions, position)))
        kept = summed.take(pc.select_k_unstable(summed, top, order)).sort_by(order)
        found[position] = [
            [value, count]
            for value, count in zip(
                kept.column(TEXT_VALUE).to_pylist(), kept.column(COUNT).to_pylist(), strict=True
            )
        ]
    return found


def add_top_texts(
    columns: list[dict[str, Any]], tops: list[dict[str, list[list[Any]]]], top: int
) -> None:
    """Each text column's ``top`` most frequent values over the value buckets' tops: by
    count, ties by value in code point order (as DuckDB's ORDER BY and Arrow's sort)."""
    for line in columns:
        if line["type"] != ColumnType.STRING.value:
            continue
        values = [v for bucket in tops for v in bucket.get(line["name"], [])]
        values.sort(key=lambda v: (-v[1], v[0]))
        line["top"] = [{"value": v, "count": c} for v, c in values[:top]]
