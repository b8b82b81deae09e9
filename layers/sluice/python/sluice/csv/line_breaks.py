"""Text whose lines end with a carriage return alone, rewritten with line feeds.

Classic Mac OS, and Excel for Mac's "CSV (Macintosh)", end lines with CR only. pyarrow
reads such a file, but the ingest finds records by their line feeds (``csv.ranges``), so
the Prepare step rewrites it: each CR outside quoted fields becomes a LF, one byte for
one; a CR inside a quoted field is part of its value and stays, as pyarrow reads it.
Where quoted fields lie is ``csv.quoting``'s reading, carried from block to block.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from sluice.csv import quoting

CARRIAGE_RETURN = ord("\r")
LINE_FEED = ord("\n")


def cr_line_breaks(head: bytes) -> bool:
    """Whether text whose first bytes are ``head`` ends its lines with CR alone: it holds
    a CR and no LF."""
    return b"\r" in head and b"\n" not in head


class _Rewriter:
    """The rewrite of one stream, a block at a time: the quote state at the block's start,
    the byte before it, and quotes held back from its end."""

    def __init__(self, quote: int, delimiter: int) -> None:
        self.quote, self.delimiter = quote, delimiter
        self.state = 0
        self.previous: int | None = None
        self.held = b""

    def block(self, block: bytes) -> bytes:
        data = self.held + block
        # A run of quotes at the end may go on in the next block: its length decides
        # what it does, so it is read with that block.
        end = len(data)
        while end and data[end - 1] == self.quote:
            end -= 1
        body, self.held = data[:end], data[end:]
        if not body:
            return b""
        arr = np.frombuffer(body, dtype=np.uint8)
        returns = np.flatnonzero(arr == CARRIAGE_RETURN)
        rewritten = body
        if len(returns):
            outside = quoting.outside_at(
                body, returns, self.state, self.quote, self.delimiter, self.previous
            )
            if outside.any():
                out = arr.copy()
                out[returns[outside]] = LINE_FEED
                rewritten = out.tobytes()
        span = quoting.transfer(body, 0, len(body), self.quote, self.delimiter, self.previous)
        self.state = span.after(self.state)
        self.previous = body[-1]
        return rewritten


def lf_line_breaks(blocks: Iterable[bytes], quote: str, delimiter: str) -> Iterator[bytes]:
    """``blocks`` of text (UTF-8, or any encoding whose CR, LF, quote and delimiter are
    those single bytes) with each CR outside quoted fields made a LF."""
    rewriter = _Rewriter(ord(quote), ord(delimiter))
    for block in blocks:
        rewritten = rewriter.block(block)
        if rewritten:
            yield rewritten
    if rewriter.held:
        yield rewriter.held  # quotes only: nothing to rewrite


__all__ = ["cr_line_breaks", "lf_line_breaks"]
