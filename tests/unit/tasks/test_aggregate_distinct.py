"""A bucket's rows merged in hash order: the rows taken chunk by chunk, and the runs of a
shared hash told apart by their keys."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from sluice.tasks import aggregate_distinct
from sluice.tasks.aggregate_distinct import take_rows


def test_take_rows_of_a_column_of_many_chunks_is_arrows_take_in_any_order() -> None:
    column = pa.chunked_array([["a", "b"], [], ["c", None, "e"], ["f"]])
    rows = np.array([5, 0, 3, 3, 2, 1], dtype=np.int64)
    assert take_rows(column, rows).to_pylist() == ["f", "a", None, None, "c", "b"]
    assert take_rows(column, np.array([], dtype=np.int64)).to_pylist() == []


def test_take_rows_of_dictionaries_with_a_dictionary_a_chunk_gives_their_values() -> None:
    column = pa.chunked_array(
        [pa.array(["x", "y", "x"]).dictionary_encode(), pa.array(["z"]).dictionary_encode()]
    )
    taken = take_rows(column, np.array([3, 1, 0], dtype=np.int64))
    assert taken.cast(pa.string()).to_pylist() == ["z", "y", "x"]


def test_hash_order_sorts_the_runs_whose_keys_collide_and_keeps_the_others_repeats() -> None:
    # Hash 1 is shared by a, b, a (a collision, sorted by key); hash 2 by c, c (one key
    # repeated, never sorted again); d alone.
    keys = pa.table({"k": ["a", "c", "b", "d", "c", "a"]})
    hashed = np.array([1, 2, 1, 3, 2, 1], dtype=np.uint32)
    order, starts = aggregate_distinct.hash_order(keys, hashed)
    groups = np.split(keys.column("k").take(pa.array(order)).to_pylist(), starts[1:])
    assert [list(group) for group in groups] == [["a", "a"], ["b"], ["c", "c"], ["d"]]


def test_rows_in_shared_bins_holds_every_row_whose_hash_another_row_has() -> None:
    rng = np.random.default_rng(3)
    hashes = rng.integers(0, 2**32, 50_000, dtype=np.uint64).astype(np.uint32)
    hashes[rng.integers(0, 50_000, 500)] = hashes[rng.integers(0, 50_000, 500)]
    _, inverse, counts = np.unique(hashes, return_inverse=True, return_counts=True)
    sharing = np.flatnonzero(counts[inverse] > 1)
    found = aggregate_distinct.rows_in_shared_bins(hashes)
    assert np.all(np.diff(found) > 0)
    assert set(sharing.tolist()) <= set(found.tolist())
    assert len(found) < len(hashes) // 4  # about 1 in 8 by chance, not every row


def test_rows_in_shared_bins_of_one_row_or_none_is_empty() -> None:
    assert aggregate_distinct.rows_in_shared_bins(np.array([7], dtype=np.uint32)).size == 0
    assert aggregate_distinct.rows_in_shared_bins(np.array([], dtype=np.uint32)).size == 0
