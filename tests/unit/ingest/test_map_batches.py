"""How the ingest's Distributed Maps batch their chunks: one round of invocations, each
batch scanning its first ranges last."""

from __future__ import annotations

from sluice.ingest.decide_step import conversion_batch
from sluice.ingest.models import ChunkItem, ChunkResult, Span
from sluice.ingest.scan_steps import scan_order
from sluice.store.map_results import (
    MAX_BATCH,
    MAX_BATCH_ITEMS,
    batch_for,
    batch_size,
    most_per_batch,
)


def chunks(count: int) -> list[ChunkItem]:
    return [ChunkItem(index=i, start=10 * i, end=10 * (i + 1)) for i in range(count)]


def test_a_batch_holds_what_makes_one_round_of_invocations_at_most_eight() -> None:
    assert batch_size(1_600, 1_000) == 2  # 800 invocations of two
    assert batch_size(1_000, 1_000) == 1
    assert batch_size(16, 2) == MAX_BATCH == 8
    assert batch_size(80, 2) == 8  # 10 invocations queue for the two workers
    assert batch_size(0, 1_000) == 1


def test_smaller_chunks_go_more_to_a_batch_as_many_as_make_eight_of_64_mib() -> None:
    mib = 1024 * 1024
    assert most_per_batch(64 * mib) == MAX_BATCH == 8
    assert most_per_batch(128 * mib) == 8  # larger chunks: eight, as before
    assert most_per_batch(16 * mib) == 32
    assert most_per_batch(64) == MAX_BATCH_ITEMS == 64  # however small
    assert batch_size(2_077, 2, most_per_batch(64)) == 64  # 33 invocations, not 260


def test_each_batch_takes_every_nth_chunk_from_the_end() -> None:
    ordered = [c.index for c in scan_order(chunks(7), 3)]
    # The ItemBatcher's batches are the list cut in threes: each descends.
    assert [ordered[0:3], ordered[3:6], ordered[6:]] == [[6, 3, 1], [5, 2, 0], [4]]
    assert [c.index for c in scan_order(chunks(4), 2)] == [3, 1, 2, 0]
    assert [c.index for c in scan_order(chunks(3), 1)] == [2, 1, 0]
    assert scan_order([], 1) == []


def test_a_batch_for_items_of_given_sizes_takes_as_many_as_the_largest_allows() -> None:
    mib = 1024 * 1024
    assert batch_for([64] * 2_077, 2) == 64
    assert batch_for([64 * mib] * 79 + [3 * mib], 2) == MAX_BATCH
    assert batch_for([], 1_000) == 1


def test_conversion_batches_count_the_bytes_of_the_chunks_not_their_records() -> None:
    # 80 chunks of 64 MiB of a million records each: eight a child, as their scans.
    mib = 1024 * 1024
    chunks = [
        ChunkResult(
            index=i,
            start=i * 64 * mib,
            end=(i + 1) * 64 * mib,
            parity=0,
            quotes=0,
            newlines=1_000_000,
            first=i * 1_000_000,
            last=(i + 1) * 1_000_000,
            rows=1_000_000,
        )
        for i in range(80)
    ]
    spans = [Span(index=c.index, first=c.first, last=c.last) for c in chunks]
    assert conversion_batch(chunks, spans, 2) == MAX_BATCH
