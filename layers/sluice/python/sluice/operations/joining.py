"""Joins by hash partitioning: pure functions over Arrow tables.

Both sides' key columns are cast to one type per key (the first of the preference order
that holds both, as stack unifies columns; categories compared by their texts), so that
equal keys hash alike whichever side and type they came from, and land in one bucket.
Each bucket is then joined alone (Arrow's hash join): a key's matches are all in its
bucket. Null keys match nothing, as in SQL; an outer join keeps their rows once, in the
one bucket their hash sends them to.

The output holds the left side's columns in their order (its keys, coalesced with the
right's in a right or outer join), then the right side's other columns; a right column
whose name a left column has takes the suffix.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sluice.inference.types import ColumnType, arrow_type
from sluice.operations.column_types import unified

JOIN_TYPES = {"inner": "inner", "left": "left outer", "right": "right outer", "outer": "full outer"}
_RIGHT_KEY = "__join_key{}"


def key_types(
    left: dict[str, ColumnType],
    right: dict[str, ColumnType],
    on: list[str],
    right_on: list[str],
) -> tuple[list[ColumnType | None], list[str]]:
    """Each key's joined type, and a problem (``"on[i]: ..."``) for each pair of key
    columns whose types do not join."""
    types: list[ColumnType | None] = []
    problems = []
    for i, (a, b) in enumerate(zip(on, right_on, strict=True)):
        kind = unified([left[a], right[b]])
        types.append(kind)
        if kind is None:
            problems.append(
                f"on[{i}]: {a!r} is {left[a].value} and {b!r} on the right is "
                f"{right[b].value}: they do not join"
            )
    return types, problems


_BROADCASTABLE = {"inner": ("right", "left"), "left": ("right",), "right": ("left",), "outer": ()}
"""Which sides a join may broadcast: one whose unmatched rows it drops (an outer join keeps
each side's, and a broadcast side's unmatched rows would come once per part of the other)."""


def broadcast_side(how: str, left_bytes: int, right_bytes: int, most_bytes: int) -> str | None:
    """The side to broadcast (``"left"`` or ``"right"``): the smaller of those ``how``
    allows, if it has at most ``most_bytes``; None to shuffle both."""
    sizes = {"left": left_bytes, "right": right_bytes}
    allowed = [s for s in _BROADCASTABLE[how] if sizes[s] <= most_bytes]
    return min(allowed, key=lambda s: sizes[s], default=None)


def compare_type(kind: ColumnType) -> pa.DataType:
    """The Arrow type a key is compared and hashed as (a category as its text)."""
    return pa.string() if kind is ColumnType.CATEGORY else arrow_type(kind)


def output_names(
    left: list[str], right: list[str], right_on: list[str], suffix: str
) -> dict[str, str]:
    """The output name of each right column but its keys (suffixed where a left column
    has its name)."""
    taken = set(left)
    return {n: f"{n}{suffix}" if n in taken else n for n in right if n not in right_on}


def with_keys(table: pa.Table, keys: list[str], kinds: list[ColumnType]) -> pa.Table:
    """``table`` with its key columns in their compared types."""
    for name, kind in zip(keys, kinds, strict=True):
        index = table.schema.get_field_index(name)
        table = table.set_column(index, name, table.column(name).cast(compare_type(kind)))
    return table


def empty_side(columns: dict[str, ColumnType]) -> pa.Table:
    """No rows, with a side's columns: a bucket one side sent nothing to."""
    return pa.schema([(n, arrow_type(t)) for n, t in columns.items()]).empty_table()


def join_bucket(
    left: pa.Table,
    right: pa.Table,
    on: list[str],
    right_on: list[str],
    how: str,
    kinds: list[ColumnType],
    suffix: str,
) -> pa.Table:
    """One bucket's rows joined, in the output's columns and types.

    Arrow's hash join matches the keys alone, with each side's row numbers: the pairs of
    rows that meet (a null number where a row met none). Every other column is then
    taken by those numbers. Joined whole, Arrow encoded every column of the side it
    hashes into its table: 0.9 s of a part's 1.3 s against a 1M-row table of two columns,
    where the keys took 0.1."""
    # A category's parts each have their own dictionary: one per column, for the takes.
    left = with_keys(left, on, kinds).unify_dictionaries()
    right = with_keys(right, right_on, kinds).unify_dictionaries()
    renames = output_names(left.column_names, right.column_names, right_on, suffix)
    hidden = [_RIGHT_KEY.format(i) for i in range(len(on))]
    pairs = _row_pairs(left.select(on), right.select(right_on).rename_columns(hidden), how)
    if how == "right":  # Arrow keeps the right side's keys there: give them the left's names
        pairs = pairs.rename_columns(
            [on[hidden.index(n)] if n in hidden else n for n in pairs.column_names]
        )
    left_rows, right_rows = pairs.column(_LEFT_ROW), pairs.column(_RIGHT_ROW)
    columns: dict[str, pa.ChunkedArray] = {}
    for name in left.column_names:
        # The keys as the join gives them: coalesced with the right's where it keeps both.
        columns[name] = pairs.column(name) if name in on else left.column(name).take(left_rows)
    for name, output in renames.items():
        columns[output] = right.column(name).take(right_rows)
    out = pa.table(columns)
    for name, kind in zip(on, kinds, strict=True):
        if kind is ColumnType.CATEGORY:
            index = out.schema.get_field_index(name)
            out = out.set_column(index, name, out.column(name).dictionary_encode())
    return out


_LEFT_ROW, _RIGHT_ROW = "__left_row", "__right_row"


def _row_pairs(left_keys: pa.Table, right_keys: pa.Table, how: str) -> pa.Table:
    """The join of two sides' keys (the right's under their hidden names): the output's
    key columns and each side's row number, null where that side had no row."""
    if left_keys.num_columns == 1 and sortable(left_keys.schema.field(0).type):
        return _sorted_row_pairs(left_keys, right_keys.column(0), how)
    numbered = [
        keys.append_column(name, pa.array(np.arange(keys.num_rows, dtype=np.int64)))
        for keys, name in ((left_keys, _LEFT_ROW), (right_keys, _RIGHT_ROW))
    ]
    return numbered[0].join(
        numbered[1],
        keys=left_keys.column_names,
        right_keys=right_keys.column_names,
        join_type=JOIN_TYPES[how],
        coalesce_keys=True,
        use_threads=False,
    )


def sortable(kind: pa.DataType) -> bool:
    """Whether a key's values are integers underneath (ints, datetimes, durations): equal
    exactly when their int64s are, so that a binary search finds their matches."""
    return pa.types.is_integer(kind) or pa.types.is_timestamp(kind) or pa.types.is_duration(kind)


def _int64s(key: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray | None]:
    """A key column's values as int64s (0 where null), and where they are not null (None
    when none is)."""
    values = key.cast(pa.int64())
    if key.null_count == 0:
        return values.combine_chunks().to_numpy(), None
    valid = pc.is_valid(key).to_numpy(zero_copy_only=False)
    return pc.fill_null(values, 0).combine_chunks().to_numpy(), valid


def _search_order(keys: np.ndarray, valid: np.ndarray | None) -> np.ndarray | None:
    """The rows of the non-null ``keys`` in ascending order of key (None: all of them, in
    their order, when they are sorted already: no sort to pay for)."""
    if valid is None and bool(np.all(keys[1:] >= keys[:-1])):
        return None
    rows = np.arange(len(keys), dtype=np.int64) if valid is None else np.flatnonzero(valid)
    return rows[np.argsort(keys[rows], kind="stable")]


def _sorted_row_pairs(left_keys: pa.Table, right_key: pa.ChunkedArray, how: str) -> pa.Table:
    """``_row_pairs`` for one integer key, by sorting the right side's keys and searching
    each left key among them. Arrow's hash join built its hash table of the right side
    anew for each part: 0.2-0.6 s of CPU a part against a broadcast 1M-row table, where the
    searches take some 0.04 (the pairs are the same, in another order)."""
    (name,) = left_keys.column_names
    left_key = left_keys.column(0)
    lefts, left_valid = _int64s(left_key)
    rights, right_valid = _int64s(right_key)
    order = _search_order(rights, right_valid)  # a null key matches nothing
    ranked = rights if order is None else rights[order]
    low = np.searchsorted(ranked, lefts, side="left")
    counts = np.searchsorted(ranked, lefts, side="right") - low
    if left_valid is not None:
        counts[~left_valid] = 0
    left_rows = np.repeat(np.arange(len(lefts), dtype=np.int64), counts)
    # The k-th pair of left row i is its (k - start_i)-th match from ``low[i]`` on.
    starts = np.cumsum(counts) - counts
    right_rows = np.repeat(low - starts, counts) + np.arange(len(left_rows), dtype=np.int64)
    if order is not None:
        right_rows = order[right_rows]
    pairs = len(left_rows)
    left_missing: np.ndarray | None = None
    right_missing: np.ndarray | None = None
    if how in ("left", "outer"):  # every left row, once with no match where it had none
        alone = np.flatnonzero(counts == 0)
        left_rows = np.concatenate([left_rows, alone])
        right_rows = np.concatenate([right_rows, np.zeros(len(alone), dtype=np.int64)])
        right_missing = np.arange(len(left_rows)) >= pairs
    if how in ("right", "outer"):  # every right row, null keys too
        met = np.zeros(len(rights), dtype=bool)
        met[right_rows[:pairs]] = True
        alone = np.flatnonzero(~met)
        kept = len(left_rows)
        left_rows = np.concatenate([left_rows, np.zeros(len(alone), dtype=np.int64)])
        right_rows = np.concatenate([right_rows, alone])
        left_missing = np.arange(len(left_rows)) >= kept
        if right_missing is not None:
            right_missing = np.concatenate([right_missing, np.zeros(len(alone), dtype=bool)])
    left_numbers = pa.array(left_rows, mask=left_missing)
    right_numbers = pa.array(right_rows, mask=right_missing)
    key = left_key.take(left_numbers)
    if how in ("right", "outer"):  # the keys coalesced, as Arrow's coalesce_keys gives them
        key = pc.coalesce(key, right_key.take(right_numbers))
    return pa.table({name: key, _LEFT_ROW: left_numbers, _RIGHT_ROW: right_numbers})


_PARQUET_UNITS = {"ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}


def sorted_keys(key: pa.ChunkedArray) -> np.ndarray:
    """A key column's non-null values as sorted int64s (an integer-like key)."""
    values, valid = _int64s(key)
    return np.sort(values if valid is None else values[valid])


def _raw_ticks(stored: pa.DataType, stats: pq.Statistics) -> bool:
    """Whether a row group's raw Parquet bounds are the Arrow column's own values: any
    integer (but uint64, whose raw bounds are signed), a duration (written as its
    int64s), a timestamp written in its own unit (Parquet has no seconds: those come
    back in milliseconds)."""
    if pa.types.is_integer(stored):
        return stored != pa.uint64()
    if pa.types.is_duration(stored):
        return True
    if pa.types.is_timestamp(stored) and stats.logical_type is not None:
        written = json.loads(stats.logical_type.to_json()).get("timeUnit")
        return written == _PARQUET_UNITS.get(stored.unit)
    return False


def _group_bounds(
    stats: pq.Statistics, stored: pa.DataType, compared: pa.DataType
) -> tuple[int, int] | None:
    """A row group's key bounds as int64s of the compared type (as ``with_keys`` casts
    the values themselves: casts that keep order), or None where they do not say."""
    if not stats.has_min_max or not _raw_ticks(stored, stats):
        return None
    try:
        raw = pa.array([stats.min_raw, stats.max_raw], pa.int64())
        low, high = raw.cast(stored).cast(compared).cast(pa.int64()).to_pylist()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OverflowError):
        return None
    return int(low), int(high)


def groups_to_read(
    metadata: pq.FileMetaData, column: str, compared: pa.DataType, keys: np.ndarray
) -> list[int]:
    """The row groups of a Parquet part that may hold a row an inner join keeps: those
    whose statistics' [min, max] of the key ``column`` (in the type it is ``compared``
    as) hold one of ``keys`` (the other side's, from ``sorted_keys``). A group of null
    keys only matches nothing; one whose statistics do not say is read."""
    schema = metadata.schema
    leaf = next((i for i in range(metadata.num_columns) if schema.column(i).path == column), None)
    stored = schema.to_arrow_schema().field(column).type
    kept = []
    for group in range(metadata.num_row_groups):
        if leaf is None:
            kept.append(group)
            continue
        chunk = metadata.row_group(group).column(leaf)
        stats = chunk.statistics
        if stats is None:
            kept.append(group)
            continue
        if not stats.has_min_max and stats.has_null_count and stats.null_count == chunk.num_values:
            continue  # every key null
        bounds = _group_bounds(stats, stored, compared)
        if bounds is None or _holds_one(keys, *bounds):
            kept.append(group)
    return kept


def _holds_one(keys: np.ndarray, low: int, high: int) -> bool:
    """Whether the sorted ``keys`` hold a value in [low, high]."""
    return bool(np.searchsorted(keys, low, "left") < np.searchsorted(keys, high, "right"))
