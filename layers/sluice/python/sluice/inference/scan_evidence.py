"""What the chunks scanned so far say about each column's types, in a few numbers.

A scan writes its range as a typed part at once, with the types its own rows point to,
and Decide keeps the part when those are the file's types. A range whose rows hold no
decimal, no word, no odd date of a column that has them elsewhere is written too
narrowly and converted again after Decide, at the end, while the rest wait.

So each scan adds its counts (values, nulls and failures per type, per column) to a
running sum in the dataset's record, and decides its part's types on its own statistics
plus that sum. Scans that run after others then usually pick the file's types. The sum
is only a hint: two scans writing at once may lose one's counts, and a rescan counts
twice; Decide still merges the full statistics and converts any part whose types differ.
"""

from __future__ import annotations

from sluice.inference.schema import FAILURE_KEYS, ChunkStats

Evidence = dict[str, list[int]]
"""Per column: [values, nulls, failures of each of ``FAILURE_KEYS``, in that order]."""


def evidence_of(stats: ChunkStats) -> Evidence:
    """The counts of one chunk's statistics."""
    return {
        column.name: [
            column.values,
            column.nulls,
            *(column.failures.get(key, column.values) for key in FAILURE_KEYS),
        ]
        for column in stats.columns
    }


def added(first: Evidence, second: Evidence) -> Evidence:
    """The sums of two evidences, column by column (a column in one only keeps its counts)."""
    total = {name: list(counts) for name, counts in first.items()}
    for name, counts in second.items():
        mine = total.get(name)
        if mine is None or len(mine) != len(counts):
            total[name] = list(counts)
        else:
            total[name] = [a + b for a, b in zip(mine, counts, strict=True)]
    return total


def with_evidence(stats: ChunkStats, evidence: Evidence) -> ChunkStats:
    """``stats`` with the counts of ``evidence`` added: what to decide a part's types on.
    Distinct values and bounds stay the chunk's own."""
    width = 2 + len(FAILURE_KEYS)
    columns = []
    for column in stats.columns:
        counts = evidence.get(column.name)
        if counts is None or len(counts) != width:
            columns.append(column)
            continue
        values, nulls, *failures = counts
        own = {key: column.failures.get(key, column.values) for key in FAILURE_KEYS}
        columns.append(
            column.model_copy(
                update={
                    "values": column.values + values,
                    "nulls": column.nulls + nulls,
                    "failures": {
                        key: own[key] + fails
                        for key, fails in zip(FAILURE_KEYS, failures, strict=True)
                    },
                }
            )
        )
    return stats.model_copy(update={"columns": columns})
