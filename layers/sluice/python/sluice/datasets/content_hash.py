"""A dataset's content hash: what tells that two uploads hold the same bytes.

It is Dropbox's content hash: the SHA-256 of the concatenated SHA-256 digests of the
file's 4 MiB blocks. One SHA-256 over a whole file is one serial pass, which for a
100 GB file is longer than a Lambda may run. The digest of each block is independent
of the others, so each chunk scan hashes the blocks that start in its range, from the
bytes it reads anyway, and Decide joins the digests in order. Any tool can compute the
same value (Dropbox publishes reference code), and a file of one block hashes to
``sha256(sha256(file))``.
"""

from __future__ import annotations

import hashlib

BLOCK_BYTES = 4 * 1024 * 1024


def content_hash(data: bytes | memoryview) -> str:
    """The content hash of a whole file's bytes."""
    return joined_hash(block_digests(data))


def block_digests(data: bytes | memoryview) -> bytes:
    """The SHA-256 digest of each ``BLOCK_BYTES`` block of ``data``, concatenated.

    ``data`` starts at a block boundary; its last block may be short.
    """
    view = memoryview(data)
    return b"".join(
        hashlib.sha256(view[at : at + BLOCK_BYTES]).digest()
        for at in range(0, len(view), BLOCK_BYTES)
    )


def joined_hash(digests: bytes) -> str:
    """The content hash from every block's digest, in the file's order."""
    return hashlib.sha256(digests).hexdigest()


def owned_blocks(index: int, start: int, end: int, size: int) -> tuple[int, int]:
    """The bytes [from, to) of the whole blocks that chunk ``index``, the range
    [start, end) of a ``size``-byte file, hashes: those that start in its range, and,
    for the first chunk, those that start before it (in the header). Empty when no
    block starts there."""
    first = 0 if index == 0 else -(-start // BLOCK_BYTES) * BLOCK_BYTES
    if first >= end:
        return first, first
    last_start = (end - 1) // BLOCK_BYTES * BLOCK_BYTES
    return first, min(size, last_start + BLOCK_BYTES)
