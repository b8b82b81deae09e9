"""The content hash: Dropbox's, computed from blocks that chunk scans hash apart."""

from __future__ import annotations

import hashlib
import os

import pytest
from sluice.csv.ranges import plan_ranges
from sluice.datasets.content_hash import (
    BLOCK_BYTES,
    block_digests,
    content_hash,
    joined_hash,
    owned_blocks,
)

from tests.support import reference_content_hash

BODY = os.urandom(2 * BLOCK_BYTES + 12345)


def test_a_file_of_several_blocks_hashes_like_dropbox() -> None:
    assert content_hash(BODY) == reference_content_hash(BODY)


def test_an_empty_file_hashes_to_the_sha256_of_no_digests() -> None:
    assert content_hash(b"") == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize(
    ("data_start", "chunk_bytes"),
    [(10, BLOCK_BYTES), (10, 5 * 512 * 1024), (700, 3 * BLOCK_BYTES), (10, 1000)],
)
def test_the_chunks_own_each_block_once_and_join_to_the_whole_hash(
    data_start: int, chunk_bytes: int
) -> None:
    owned = [
        owned_blocks(r.index, r.start, r.end, len(BODY))
        for r in plan_ranges(data_start, len(BODY), chunk_bytes)
    ]
    spans = [(lo, hi) for lo, hi in owned if hi > lo]
    # Back to back from the first byte to the last, each starting at a block's start.
    assert [lo for lo, _ in spans] == [0] + [hi for _, hi in spans[:-1]]
    assert spans[-1][1] == len(BODY)
    assert all(lo % BLOCK_BYTES == 0 for lo, _ in spans)
    joined = b"".join(block_digests(BODY[lo:hi]) for lo, hi in spans)
    assert joined_hash(joined) == reference_content_hash(BODY)
