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

import pyarrow as pa

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
    """One bucket's rows joined, in the output's columns and types."""
    # A category's parts each have their own dictionary: Arrow's join takes one per column.
    left = with_keys(left, on, kinds).unify_dictionaries()
    right = with_keys(right, right_on, kinds).unify_dictionaries()
    renames = output_names(left.column_names, right.column_names, right_on, suffix)
    hidden = [_RIGHT_KEY.format(i) for i in range(len(on))]
    right = right.rename_columns(
        [hidden[right_on.index(n)] if n in right_on else renames[n] for n in right.column_names]
    )
    joined = left.join(
        right,
        keys=on,
        right_keys=hidden,
        join_type=JOIN_TYPES[how],
        coalesce_keys=True,
        use_threads=False,
    )
    if how == "right":  # Arrow keeps the right side's keys there: give them the left's names
        joined = joined.rename_columns(
            [on[hidden.index(n)] if n in hidden else n for n in joined.column_names]
        )
    columns = [*left.column_names, *renames.values()]
    out = joined.select(columns)
    for name, kind in zip(on, kinds, strict=True):
        if kind is ColumnType.CATEGORY:
            index = out.schema.get_field_index(name)
            out = out.set_column(index, name, out.column(name).dictionary_encode())
    return out
