"""Sorting by range partitioning: pure functions over Arrow tables.

Every row carries a tie-breaker after its sort keys: the index of its part and its row in
that part. With it no two rows compare equal, so the sort is stable (equal keys keep the
dataset's order) and the boundaries cut the rows exactly where they are chosen, however
many rows share a key: a dataset of one repeated value still spreads evenly over the
buckets. A row's bucket is found by sorting it together with the boundaries, in the very
order the buckets are sorted in at the end, and counting the boundaries before it; so a
row's bucket and its place in the bucket can never disagree.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PART = "__sort_part"
ROW = "__sort_row"
_BOUND = "__sort_bound"
TIES = (PART, ROW)


def with_ties(table: pa.Table, part: int) -> pa.Table:
    """``table`` with its tie-breaker columns (its part's index, each row's position)."""
    rows = table.num_rows
    table = table.append_column(PART, pa.array(np.full(rows, part, dtype=np.int32)))
    return table.append_column(ROW, pa.array(np.arange(rows, dtype=np.int64)))


def sort_keys(table: pa.Table, by: list[str]) -> pa.Table:
    """The columns a sort compares: ``by`` (categories by their texts) and the ties."""
    columns = []
    for name in [*by, *TIES]:
        column = table.column(name)
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        columns.append(column)
    return pa.table(columns, names=[*by, *TIES])


def order(
    keys: pa.Table, by: list[str], descending: set[str], nulls: Literal["first", "last"]
) -> pa.Array:
    """The indices that sort ``keys`` (as ``sort_keys`` gives them) in the asked order."""
    place = "at_start" if nulls == "first" else "at_end"
    sorting = [(n, "descending" if n in descending else "ascending", place) for n in by]
    sorting += [(n, "ascending", "at_end") for n in keys.column_names[len(by) :]]
    return pc.sort_indices(keys, sort_keys=sorting)


def sample_rows(rows: int, fraction: float, seed: int) -> np.ndarray:
    """Which rows of a part to sample: each with probability ``fraction``, at least one."""
    rng = np.random.default_rng(seed)
    chosen = np.flatnonzero(rng.random(rows) < fraction)
    if len(chosen) == 0 and rows:
        chosen = np.array([rng.integers(rows)])
    return chosen


def boundaries(
    samples: pa.Table,
    buckets: int,
    by: list[str],
    descending: set[str],
    nulls: Literal["first", "last"],
) -> pa.Table:
    """``buckets - 1`` sampled keys (with their ties) that cut the sorted samples into
    equal shares: bucket j holds the rows from boundary j-1 (inclusive) to boundary j."""
    if buckets <= 1 or samples.num_rows == 0:
        return samples.slice(0, 0)
    ranked = samples.take(order(samples, by, descending, nulls))
    cuts = [(j * ranked.num_rows) // buckets for j in range(1, buckets)]
    return ranked.take(pa.array(cuts, pa.int64()))


def bucket_of(
    keys: pa.Table,
    bounds: pa.Table,
    by: list[str],
    descending: set[str],
    nulls: Literal["first", "last"],
) -> np.ndarray:
    """Each row's bucket: how many boundaries sort before (or are) it."""
    if bounds.num_rows == 0:
        return np.zeros(keys.num_rows, dtype=np.int64)
    both = pa.concat_tables([keys, bounds.select(keys.column_names).cast(keys.schema)])
    # A boundary is a row of some part: where it meets itself, it sorts first, so that the
    # row goes to the bucket the boundary opens.
    tags = np.concatenate([np.ones(keys.num_rows, np.int8), np.zeros(bounds.num_rows, np.int8)])
    both = both.append_column(_BOUND, pa.array(tags))
    ranked = order(both, by, descending, nulls).to_numpy()
    is_bound = tags[ranked] == 0
    before = np.cumsum(is_bound)
    buckets = np.empty(keys.num_rows, dtype=np.int64)
    is_row = ~is_bound
    buckets[ranked[is_row]] = before[is_row]
    return buckets


def split(table: pa.Table, buckets: np.ndarray, count: int) -> list[pa.Table]:
    """``table``'s rows by bucket (each bucket's rows in their order): one take of every
    row in bucket order, then a slice per bucket (a take per bucket cost 2.5x as much:
    each walks the table's columns again), the order from numpy's stable sort of 16-bit
    buckets where they fit (a radix sort, not a merge sort of int64s)."""
    narrow = buckets.astype(np.uint16) if count <= 1 << 16 else buckets
    grouped = np.argsort(narrow, kind="stable")
    starts = np.searchsorted(buckets[grouped], np.arange(count + 1))
    ordered = table.take(pa.array(grouped))
    return [ordered.slice(starts[b], starts[b + 1] - starts[b]) for b in range(count)]
