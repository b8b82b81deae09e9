"""Splitting a CSV into byte ranges that parallel workers can parse on their own.

A record belongs to the range in which it starts. A record starts right after a
newline that is outside quotes, and "outside quotes" depends on how many quote
characters came before it in the whole file. A worker that sees only its range
cannot know that parity, so it guesses (``guess_parity``), reports how many quotes
its range holds, and the reconcile step, which sees every range's count, rescans
any range whose guess was wrong. Each range is then exact, quoted newlines
included, while nothing reads the whole file serially.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sluice.csv import quoting

QUOTE = ord('"')
COMMA_BYTE = ord(",")
NEWLINE = ord("\n")
LINE_EDGES = frozenset(b"\r\n")
BOM = b"\xef\xbb\xbf"


class CsvError(Exception):
    """The file is not a CSV this system can read; the message names the problem and line."""


@dataclass(frozen=True)
class ByteRange:
    index: int
    start: int
    end: int


def plan_ranges(data_start: int, size: int, chunk_bytes: int) -> list[ByteRange]:
    """Ranges of ``chunk_bytes`` covering [data_start, size), aligned to multiples of
    ``chunk_bytes`` so that the plan does not depend on the header's length."""
    if chunk_bytes <= 0:
        raise ValueError("chunk_bytes must be positive")
    ranges: list[ByteRange] = []
    start = data_start
    boundary = (data_start // chunk_bytes + 1) * chunk_bytes
    while start < size:
        end = min(boundary, size)
        ranges.append(ByteRange(index=len(ranges), start=start, end=end))
        start, boundary = end, boundary + chunk_bytes
    return ranges


def balanced_chunk_bytes(size: int, chunk_bytes: int, workers: int, align: int) -> int:
    """A chunk size of at most ``chunk_bytes`` that splits a ``size``-byte file (ranges
    end on its multiples, see :func:`plan_ranges`) into a multiple of ``workers``
    chunks, so that no worker idles through the last round of scans (15 chunks on 2
    workers: the 15th runs alone; 16 slightly smaller ones do not).

    The size is a multiple of ``align`` (the content hash's block), and stays
    ``chunk_bytes`` when ``workers`` is unknown (0) or 1, or when rounding to ``align``
    leaves nothing to balance.
    """
    if workers <= 1 or size <= 0:
        return chunk_bytes
    count = -(-size // chunk_bytes)
    rounds = -(-count // workers)
    balanced = -(-size // (rounds * workers))
    balanced = -(-balanced // align) * align
    return min(chunk_bytes, balanced)


_COUNT_BLOCK = 256 * 1024
"""byte_counts compares a block at a time, into one small mask that stays in cache; a
mask of the whole 64 MiB range costs fresh pages every time, three times the work."""


def byte_counts(data: bytes, lo: int, hi: int, quote: int = QUOTE) -> tuple[int, int]:
    """The quotes (bytes ``quote``) and the line breaks in ``data[lo:hi]``: numpy compares
    at memory speed, four times as fast as two ``bytes.count``."""
    arr = np.frombuffer(data, dtype=np.uint8)
    mask = np.empty(_COUNT_BLOCK, dtype=bool)
    quotes = newlines = 0
    for start in range(lo, hi, _COUNT_BLOCK):
        block = arr[start : min(start + _COUNT_BLOCK, hi)]
        found = mask[: len(block)]
        quotes += int(np.count_nonzero(np.equal(block, quote, out=found)))
        newlines += int(np.count_nonzero(np.equal(block, NEWLINE, out=found)))
    return quotes, newlines


def record_starts(
    data: bytes | memoryview,
    parity: int,
    quote: int = QUOTE,
    delimiter: int = COMMA_BYTE,
    previous: int | None = None,
) -> np.ndarray:
    """Offsets p in ``data`` where a record starts: data[p-1] is a newline outside quoted
    fields (:mod:`sluice.csv.quoting`), ``parity`` being the state at data[0] (1: inside
    one) and ``previous`` the byte before it (None: the file's start)."""
    arr = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(arr == NEWLINE)
    outside = quoting.outside_at(data, newlines, parity, quote, delimiter, previous)
    starts: np.ndarray = newlines[outside] + 1
    return starts


def guess_parity(
    data: bytes,
    start: int,
    previous_byte: int | None,
    lo: int = 0,
    hi: int | None = None,
    quote: int = QUOTE,
    delimiter: int = COMMA_BYTE,
) -> int:
    """Guess whether ``data[lo:hi]`` (which begins at byte ``start`` of the file) begins
    inside quotes. (Bounds, not a slice: a range is 64 MiB, and a slice would copy it.)

    The first run of quote characters decides. After a field edge (delimiter or line
    break) an odd run opens a field (we were outside) and an even run is an empty
    field when another edge follows, else escaped quotes inside a field. A run in the
    middle of a field can only be escapes or a closing quote: we were inside. A wrong
    guess costs one rescan of the range, never a wrong count. ``quote`` and ``delimiter``
    are the dialect's bytes.
    """
    hi = len(data) if hi is None else hi
    position = data.find(bytes((quote,)), lo, hi)
    if position == -1:
        return 0
    edges = LINE_EDGES | {delimiter}
    run_end = position
    while run_end < hi and data[run_end] == quote:
        run_end += 1
    before = data[position - 1] if position > lo else previous_byte
    after = data[run_end] if run_end < hi else None
    if before is not None and before not in edges:
        return 1
    odd = (run_end - position) % 2 == 1
    if odd or after is None or after in edges:
        return 0
    return 1


@dataclass(frozen=True)
class Span:
    """The absolute byte span [first, last) of the records that start in a range."""

    first: int
    last: int

    @property
    def empty(self) -> bool:
        return self.last <= self.first


def records_span(
    data: bytes,
    data_start: int,
    rng: ByteRange,
    parity: int,
    at_eof: bool,
    range_quotes: int | None = None,
    quote: int = QUOTE,
    delimiter: int = COMMA_BYTE,
) -> Span | None:
    """Where the records starting in ``rng`` lie, given the quote state at ``rng.start``.

    ``data`` holds the file from ``data_start`` (``rng.start - 1`` or earlier, so the
    byte before the range is known) through at least ``rng.end``; ``at_eof`` says it
    reaches the end of the file. Returns None when ``data`` ends before the range's
    last record does, so the caller must read further. ``range_quotes``, the quotes in
    the range if the caller has counted them, spares looking for runs where there are
    none. ``quote`` and ``delimiter`` are the dialect's bytes.
    """
    offset = rng.start - data_start
    if parity == 0 and (rng.start == 0 or data[offset - 1] == NEWLINE):
        first = rng.start
    else:
        found = _next_start(data, offset, parity, rng.end - data_start, quote, delimiter)
        if found is None or found == rng.end - data_start:
            return Span(rng.end, rng.end)  # a quoted field spans the whole range
        first = data_start + found
    # The range's last record ends where the first record starting at or past its end begins.
    last_byte = rng.end - data_start - 1
    previous = data[offset - 1] if offset > 0 else None
    parity_there = parity
    if range_quotes != 0:
        to_last = quoting.transfer(data, offset, last_byte, quote, delimiter, previous)
        parity_there = to_last.after(parity)
    end = _next_start(data, last_byte, parity_there, len(data), quote, delimiter)
    if end is not None:
        return Span(first, data_start + end)
    if at_eof:
        return Span(first, data_start + len(data))
    return None


def _next_start(
    data: bytes, at: int, parity: int, stop: int, quote: int = QUOTE, delimiter: int = COMMA_BYTE
) -> int | None:
    """The first record start p in (at, stop] (data[p-1] a newline outside quotes), where
    ``parity`` is the quote state at ``at``; None when there is none.

    Looks in growing windows: a record start is usually a few hundred bytes away, and
    finding every line break of a 64 MiB range to use two of them is wasted work. A
    window never ends inside a run of quotes, whose length decides what it does.
    """
    window = 64 * 1024
    while at < stop:
        end = min(stop, at + window)
        while end < stop and data[end] == quote:
            end += 1
        previous = data[at - 1] if at > 0 else None
        view = memoryview(data)[at:end]
        starts = record_starts(view, parity, quote, delimiter, previous)
        if len(starts):
            return at + int(starts[0])
        parity = quoting.transfer(data, at, end, quote, delimiter, previous).after(parity)
        at, window = end, window * 4
    return None
