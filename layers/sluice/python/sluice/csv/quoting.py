"""Where quoted fields begin and end, as pyarrow's CSV parser reads them.

A quote opens a quoted field only at the field's start (right after a delimiter or a
line break); inside one, two quotes are one escaped quote and a single quote closes it;
anywhere else a quote is a character of the field (``15"``, ``5" pipe``). Counting every
quote and taking its parity, as a splitter of well-quoted files may, turns such a
literal quote into an opening one: a file with an odd number of them ends "inside"
quotes, and a record boundary after one is looked for on the wrong side.

A run of quotes decides by its length and what comes before it. An even run leaves the
state as it was (escaped quotes, or an empty quoted field). An odd run after a field
edge toggles it (opens a field, or closes one whose last character was a delimiter or a
line break). An odd run after any other byte always leaves the state outside: it closes
the quoted field it ends, or, outside one, is literal. That last kind "resets": the
state after it does not depend on the state before, so a range's quotes map the state
at its start to the state at its end either as a toggle count or as a constant
(:class:`Transfer`), and a well-quoted range, whose fields end with such a closing
quote, is a constant from its last closing quote on.

A run belongs to the span where its first quote is: a span that starts inside a run
leaves that run to the span before it, which reads past its own end to count it whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEWLINE = ord("\n")
CARRIAGE_RETURN = ord("\r")

_BLOCK = 256 * 1024
"""Runs are found a block at a time, so their index arrays stay small: a 64 MiB range
whose every field is quoted holds some 12 million quotes."""

_NO_RUNS = (np.empty(0, dtype=np.int64), np.empty(0, dtype=bool))


@dataclass(frozen=True)
class Transfer:
    """What a span's quotes do to the state at its start (1: inside a quoted field).

    ``resets``: the state after the span is ``parity`` whatever it was before (the span
    has an odd run after a byte that is no field edge); else it is the state before
    toggled ``parity`` times."""

    resets: bool = False
    parity: int = 0

    def after(self, before: int) -> int:
        """The state at the span's end, given the state at its start."""
        return self.parity if self.resets else (before + self.parity) % 2

    def then(self, later: Transfer) -> Transfer:
        """This span followed by ``later``: what both do together."""
        if later.resets:
            return later
        return Transfer(self.resets, (self.parity + later.parity) % 2)


def odd_runs(
    arr: np.ndarray, lo: int, hi: int, quote: int, delimiter: int, previous: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """The odd-length quote runs whose first quote lies in ``arr[lo:hi]``: their first
    offsets, and for each whether it resets (no field edge before it). ``previous`` is the
    byte before ``arr[0]`` (None at the file's start, a line break)."""
    found = np.flatnonzero(arr[lo:hi] == quote)
    if not len(found):
        return _NO_RUNS
    found += lo
    breaks = np.flatnonzero(np.diff(found) != 1) + 1
    first_index = np.concatenate(([0], breaks))
    firsts = found[first_index]
    lengths = np.diff(np.append(first_index, len(found)))
    end = int(found[-1]) + 1
    if end == hi:  # the last run may go on past hi: it is counted whole
        more = end
        while more < len(arr) and arr[more] == quote:
            more += 1
        lengths[-1] += more - end
    before = arr[np.maximum(firsts - 1, 0)].astype(np.int16)
    if firsts[0] == 0:
        before[0] = NEWLINE if previous is None else previous
    odd = lengths % 2 == 1
    if firsts[0] == lo and before[0] == quote:
        odd[0] = False  # the end of a run that began before lo: that run's, not one
    resets = (before != delimiter) & (before != NEWLINE) & (before != CARRIAGE_RETURN)
    return firsts[odd], resets[odd]


def states_after(resets: np.ndarray, before: int) -> np.ndarray:
    """The state after each odd run (1: inside quotes), given the state ``before`` them."""
    toggles = np.cumsum(~resets)
    last_reset = np.maximum.accumulate(np.where(resets, np.arange(len(resets)), -1))
    reset_seen = last_reset >= 0
    at_reset = toggles[np.maximum(last_reset, 0)]
    states: np.ndarray = (np.where(reset_seen, toggles - at_reset, toggles + before)) % 2
    return states


def _runs_transfer(resets: np.ndarray) -> Transfer:
    if not len(resets):
        return Transfer()
    reset_at = np.flatnonzero(resets)
    if len(reset_at):
        after = resets[int(reset_at[-1]) + 1 :]
        return Transfer(True, len(after) % 2)
    return Transfer(False, len(resets) % 2)


def transfer(
    data: bytes | memoryview,
    lo: int,
    hi: int,
    quote: int,
    delimiter: int,
    previous: int | None = None,
) -> Transfer:
    """What the quote runs starting in ``data[lo:hi]`` do to the state at ``lo``.

    Read from the end a block at a time, and no further back than the last block with a
    reset: before it nothing changes the outcome (one block, in a well-quoted file)."""
    arr = np.frombuffer(data, dtype=np.uint8)
    result = Transfer()
    end = hi
    while end > lo:
        start = max(lo, end - _BLOCK)
        _, resets = odd_runs(arr, start, end, quote, delimiter, previous)
        result = _runs_transfer(resets).then(result)
        if result.resets:
            break
        end = start
    return result


def outside_at(
    data: bytes | memoryview,
    positions: np.ndarray,
    before: int,
    quote: int,
    delimiter: int,
    previous: int | None = None,
) -> np.ndarray:
    """For each of the sorted ``positions`` in ``data``, whether it lies outside quoted
    fields, given the state ``before`` at ``data[0]`` (``previous``: the byte before it)."""
    arr = np.frombuffer(data, dtype=np.uint8)
    firsts, resets = odd_runs(arr, 0, len(arr), quote, delimiter, previous)
    if not len(firsts):
        return np.full(len(positions), before == 0)
    states = states_after(resets, before)
    runs_before = np.searchsorted(firsts, positions, side="left")
    inside = np.where(runs_before == 0, before, states[np.maximum(runs_before - 1, 0)])
    outside: np.ndarray = inside == 0
    return outside


def inside_mask(arr: np.ndarray, quote: int, delimiter: int) -> np.ndarray:
    """Per byte of ``arr`` (a file's head, from its start), whether it lies inside a quoted
    field: the state the runs before it leave (a quote's own byte reads as the state
    before its run)."""
    firsts, resets = odd_runs(arr, 0, len(arr), quote, delimiter, None)
    if not len(firsts):
        return np.zeros(len(arr), dtype=bool)
    states = states_after(resets, 0).astype(bool)
    # Each run's state holds from the byte after its first quote to the next run's.
    lengths = np.diff(np.concatenate(([0], firsts + 1, [len(arr)])))
    mask: np.ndarray = np.repeat(np.concatenate(([False], states)), lengths)
    return mask


__all__ = ["Transfer", "inside_mask", "odd_runs", "outside_at", "states_after", "transfer"]
