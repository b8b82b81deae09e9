"""Keys that are nearly all distinct (a group of one row each, as BMAT's (song, date)
mostly are): a part sends such rows to the buckets ungrouped, and a reducer merges such a
bucket by ordering its rows by their key hash and summing runs, with no hash table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluice.tasks.aggregate_filter import decode
from sluice.tasks.aggregate_output import key_hash, numbers
from sluice.tasks.aggregate_shuffle import KEY_HASH

MOSTLY_DISTINCT = 0.9
"""When a sample of a part has at least this many groups per row, grouping the part
would hardly shrink it: its rows go to the buckets as they are, one group each, and
the reducers (which group anyway) do all the merging."""


def mostly_distinct(sample: pa.Table, keys: list[str]) -> bool:
    """Whether nearly every row of ``sample`` is a group of its own."""
    if sample.num_rows == 0:
        return False
    groups = sample.group_by(keys, use_threads=False).aggregate([]).num_rows
    return groups >= MOSTLY_DISTINCT * sample.num_rows


def rows_as_groups(work: pa.Table, keys: list[str], aggs: list[tuple[Any, str]]) -> pa.Table:
    """Every row as a group of its own, named as ``group_by(keys).aggregate(aggs)`` names
    its columns: a value's sum, min and max are itself, its count 1 unless it is null."""
    columns: dict[str, Any] = {key: work.column(key) for key in keys}
    for source, op in aggs:
        if op == "count_all":
            columns["count_all"] = pa.array(np.ones(work.num_rows, dtype=np.int64))
        elif op == "count":
            columns[f"{source}_count"] = pc.cast(pc.is_valid(work.column(source)), pa.int64())
        else:  # sum, min, max
            columns[f"{source}_{op}"] = work.column(source)
    return pa.table(columns)


def sums_in_hash_order(
    combined: pa.Table, keys: list[str], aggs: list[tuple[str, str]]
) -> pa.Table | None:
    """``combined.group_by(keys).aggregate(aggs)`` for sums alone (sum, count and mean
    merge by summing) when the keys are nearly all distinct: every row alone in its bin
    of the hashes (:func:`rows_in_shared_bins`) is a group of its own, and with the others
    in :func:`hash_order` every group is a run of rows that numpy sums at once; no hash
    table is built. None when the aggregations or key types need the general path (float
    keys: NaN != NaN)."""
    if not keys or combined.num_rows == 0 or any(op != "sum" for _, op in aggs):
        return None
    if any(pa.types.is_floating(combined.schema.field(k).type) for k in keys):
        return None
    carried = combined.column(KEY_HASH) if KEY_HASH in combined.column_names else None
    hashed = None if carried is None or carried.null_count else numbers(carried)
    hashes = _hashes32(combined.select(keys), hashed)
    if _repeats_many(hashes):
        return None  # before the sort, which would only have told the same
    # The partials stay chunks (one per part): combining them would copy every column,
    # texts and all, once more than the filter below, which reads them chunk by chunk.
    key_columns = combined.select(keys)
    # Only the rows whose hash may be another's are sorted: a row alone in its bin of
    # the hashes is alone in its group.
    candidates = rows_in_shared_bins(hashes)
    order, in_order, same_hash = _sorted_by_hash(hashes[candidates])
    order = candidates[order]
    if len(same_hash) > (1 - MOSTLY_DISTINCT) * combined.num_rows:
        # Many neighbours sharing a hash mean repeated keys (32-bit collisions are
        # rare): the hash group-by is faster there. The sort is all this judgement costs.
        return None
    order, starts = _group_starts(key_columns, order, in_order, same_hash)
    sizes = np.diff(np.append(starts, len(order)))
    shared = sizes > 1
    # Most keys are alone in their group: such a row is its group, read where it is
    # (a filter, in row order, where a gather in hash order would jump about every
    # text). Only the rows of groups of several are gathered and summed; marking those
    # few (2-3% of a bucket's rows) is all that finds the others.
    members = order[np.repeat(shared, sizes)]
    alone = np.ones(combined.num_rows, dtype=bool)
    alone[members] = False
    lone = pa.array(alone)
    member_starts = np.cumsum(sizes[shared]) - sizes[shared]
    firsts = members[member_starts]
    columns: dict[str, Any] = {}
    for key in keys:
        column = combined.column(key)
        kept, firsts_of = column.filter(lone), take_rows(column, firsts)
        columns[key] = pa.chunked_array([*kept.chunks, firsts_of], type=column.type)
    for source, op in aggs:
        values = combined.column(source).combine_chunks()
        present = np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=np.int64)
        found = numbers(values)
        sums, counted = found[:0], present[:0]
        if members.size:
            sums = np.add.reduceat(found[members], member_starts)
            counted = np.add.reduceat(present[members], member_starts)
        # A group of nulls alone sums to null, as Arrow's sum does.
        columns[f"{source}_{op}"] = pa.chunked_array(
            [values.filter(lone), pa.array(sums, type=values.type, mask=counted == 0)]
        )
    return pa.table(columns)


REPEAT_SAMPLE_SHIFT = 28
"""The repeats of a bucket's keys are judged on the rows whose 32 hash bits are below
2**28: a sixteenth of its keys, with every row of each."""
REPEAT_SAMPLE_MIN_ROWS = 4096


def _repeats_many(hashes: np.ndarray) -> bool:
    """Whether more than 1 - MOSTLY_DISTINCT of the rows share their 32 hash bits with
    another row, judged from the rows whose hashes lie in a sixteenth of the hash space.

    A key's rows all share its hash, so they are all in that sample or all out of it: the
    share of repeats there is the bucket's (a sample of rows would catch few of a key's
    repeats: BMAT's 10,000-song file, whose keys come 2.8 times each in a bucket, looks
    nearly distinct in any 65,536 of its rows). Sorting a sixteenth of the hashes spares a
    bucket whose keys repeat the sort of all of them (0.2 of its 1.1 CPU-seconds), which
    ended in Arrow's hash group-by anyway. Too few sampled rows to judge: False, and the
    whole sort decides."""
    sample = hashes[hashes < np.uint32(1 << REPEAT_SAMPLE_SHIFT)]
    if len(sample) < REPEAT_SAMPLE_MIN_ROWS:
        return False
    sample.sort()
    repeats = np.count_nonzero(sample[1:] == sample[:-1])
    return bool(repeats > (1 - MOSTLY_DISTINCT) * len(sample))


def hash_order(keys: pa.Table, hashed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """An order of the rows in which equal keys are adjacent, and where each group of
    equal keys starts in it (``hashed``: any hash of the rows' keys, equal for equal
    keys, when one is at hand; else :func:`key_hash`).

    The rows are ordered by 32 bits of a hash of their keys (the high half of a 64-bit
    one, or the 32 that partials carry), which numpy sorts in a fraction of the time
    Arrow takes to sort texts; only neighbours with the same hash need their keys
    compared. Rows whose keys share a hash but differ (the text hash reads a text's
    length and four of its 8-byte words only; 32 bits collide by chance) are sorted by
    the keys themselves, within their hash."""
    keys = keys.combine_chunks()
    return _group_starts(keys, *_sorted_by_hash(_hashes32(keys, hashed)))


def high_bits(hashed: np.ndarray) -> np.ndarray:
    """The high 32 bits of 64-bit hashes (what partials carry)."""
    return (hashed >> np.uint64(32)).astype(np.uint32)


def _hashes32(keys: pa.Table, hashed: np.ndarray | None) -> np.ndarray:
    """32 bits of a hash of each row's keys: ``hashed`` when given (its high half when
    it has 64 bits), else those of :func:`key_hash`."""
    if hashed is None:
        hashed = key_hash(keys.columns)
    return high_bits(hashed) if hashed.dtype.itemsize > 4 else hashed


SHARED_BIN_BITS = (8, 23)
"""The bins :func:`rows_in_shared_bins` counts a bucket's hashes in: about 8 a row (a row
then shares its bin by chance with about 1 in 8 probability), at least 2**8 and at most
2**23 (8M counts, 64 MB, for a bucket of 1M rows and more: a BMAT bucket's 1.9M rows
merged in the same time as with 2**24 bins, 141-147 against 146-187 ms, a fifth of its
rows left to sort, in half the memory, whose fresh pages are most of the count's cost)."""


def rows_in_shared_bins(hashes: np.ndarray) -> np.ndarray:
    """The rows (ascending) whose hash lies in a bin of the hash space with another row's:
    every row that shares its hash with another, and by chance some that do not.

    Counting the rows of each bin of the high bits is one pass of increments where a sort
    of every hash takes ~21 (a BMAT bucket's 1.9M nearly distinct keys: its merge took
    135-147 ms, against 205 with every hash sorted)."""
    if len(hashes) < 2:
        return np.zeros(0, dtype=np.int64)
    low, high = SHARED_BIN_BITS
    bits = min(high, max(low, int(np.ceil(np.log2(len(hashes)))) + 3))
    bins = hashes.astype(np.uint32, copy=False) >> np.uint32(32 - bits)
    counts = np.bincount(bins, minlength=1 << bits)
    return np.flatnonzero(counts[bins] > 1)


def _sorted_by_hash(hashed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The order that sorts ``hashed``, the hashes in it, and the positions in it whose
    next neighbour shares their hash."""
    order = argsort_hashes(hashed)
    in_order = hashed[order]
    return order, in_order, np.flatnonzero(in_order[1:] == in_order[:-1])


def _group_starts(
    keys: pa.Table, order: np.ndarray, in_order: np.ndarray, same_hash: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`hash_order`'s answer from the rows sorted by hash: neighbours whose keys
    share a hash but differ are sorted by their keys."""
    keys_differ = _differ(keys, order[same_hash], order[same_hash + 1])
    collided = same_hash[keys_differ]
    if collided.size:
        run = np.cumsum(np.concatenate([[True], in_order[1:] != in_order[:-1]]))
        collided_runs = run[collided + 1]
        positions = np.flatnonzero(np.isin(run, collided_runs))
        tied = pa.table(
            [take_rows(column, order[positions]) for column in keys.columns],
            names=keys.column_names,
        )
        for index, name in enumerate(tied.column_names):  # Arrow sorts no dictionaries
            tied = tied.set_column(index, name, decode(tied.column(index)))
        tied = tied.append_column("__run", pa.array(run[positions]))
        by = [("__run", "ascending")] + [(name, "ascending") for name in keys.column_names]
        order[positions] = order[positions][np.asarray(pc.sort_indices(tied, sort_keys=by))]
        # Only the runs just sorted changed: their neighbours are compared again, not
        # every pair that shares a hash (most of them repeats of one key, ~26,000 a bucket
        # of BMAT's file, against ~400 chance collisions).
        again = np.flatnonzero(np.isin(run[same_hash + 1], collided_runs))
        moved = same_hash[again]
        keys_differ[again] = _differ(keys, order[moved], order[moved + 1])
    differs = np.ones(max(len(order) - 1, 0), dtype=bool)
    differs[same_hash] = keys_differ
    starts = np.concatenate([[0], np.flatnonzero(differs) + 1]).astype(np.int64)
    return order, starts


def argsort_hashes(hashed: np.ndarray) -> np.ndarray:
    """An order that sorts ``hashed`` (unsigned, of 32 bits or fewer; ties in row order).

    Each hash and its row number make one 64-bit word, which numpy sorts with its
    vectorised quicksort; the low half of each sorted word is then the order. A sixth
    of the time of any argsort (0.06 against 0.29 s, stable or not, and 0.18 s for two
    16-bit radix passes, for a reducer's 1.9M rows); the words are unique, so ties keep
    their row order."""
    if hashed.dtype.itemsize > 4:
        raise ValueError(f"argsort_hashes sorts hashes of at most 32 bits, not {hashed.dtype}")
    if len(hashed) > 2**32:
        return np.argsort(hashed, kind="stable")
    words = hashed.astype(np.uint64) << np.uint64(32)
    words |= np.arange(len(hashed), dtype=np.uint64)
    words.sort()
    return (words & np.uint64(0xFFFFFFFF)).astype(np.int64)


def _differ(keys: pa.Table, rows: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Whether the keys of each of ``rows`` differ from those of its partner in ``others``
    (null equals null: null keys are one group)."""
    differs = np.zeros(len(rows), dtype=bool)
    if not len(rows):
        return differs
    for column in keys.columns:
        one, other = take_rows(column, rows), take_rows(column, others)
        unequal = pc.or_(
            pc.fill_null(pc.not_equal(one, other), False),
            pc.xor(one.is_null(), other.is_null()),
        )
        differs |= np.asarray(unequal.to_numpy(zero_copy_only=False), dtype=bool)
    return differs


def take_rows(column: pa.ChunkedArray | pa.Array, rows: np.ndarray) -> pa.Array:
    """``column.take(rows)`` for a few rows of a column of many chunks (a bucket's, one a
    part), taken chunk by chunk: Arrow's take of a chunked array of texts joins its
    chunks first, a copy of the whole column (6-80 ms for a bucket's 1.9M titles, by the
    memory's state) for each of a merge's few thousand rows."""
    if isinstance(column, pa.Array):
        return column.take(pa.array(rows, type=pa.int64()))
    if column.num_chunks == 1 or pa.types.is_dictionary(column.type):
        # One chunk: nothing to join. Dictionaries (each chunk's its own): Arrow's take.
        return column.take(pa.array(rows, type=pa.int64())).combine_chunks()
    bounds = np.cumsum([0] + [len(chunk) for chunk in column.chunks])
    which = np.searchsorted(bounds, rows, side="right") - 1
    by_chunk = np.argsort(which, kind="stable")
    cuts = np.searchsorted(which[by_chunk], np.arange(column.num_chunks + 1))
    pieces = [
        column.chunk(k).take(pa.array(rows[by_chunk[cuts[k] : cuts[k + 1]]] - bounds[k]))
        for k in range(column.num_chunks)
        if cuts[k + 1] > cuts[k]
    ]
    taken = pa.concat_arrays(pieces) if pieces else pa.array([], type=column.type)
    back = np.empty(len(rows), dtype=np.int64)
    back[by_chunk] = np.arange(len(rows))
    return taken.take(pa.array(back))
