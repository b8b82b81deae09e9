"""Re-typing some columns of a typed part, keeping the others as they were written.

When a chunk's part was written with types that differ from the decided ones in a few
columns (a decimal first seen after row 1,000,000; a preferred type set on one column),
only those columns need their texts again. The part's other columns are taken as they
are, and its ``_exceptions`` keep the entries of the columns kept: the result is the
part :func:`conversion.convert_table` would have written from all the texts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluice.inference.conversion import (
    EXCEPTIONS,
    ColumnPlanLike,
    Failure,
    convert_columns,
    typed_schema,
)


class RowsDiffer(ValueError):
    """The part and the texts given to re-type it do not have the same rows."""


def changed_columns(
    written: Sequence[ColumnPlanLike], decided: Sequence[ColumnPlanLike]
) -> list[str] | None:
    """The columns whose plan differs between a part's and the decided one, in order;
    None when the two do not name the same columns in the same order."""
    if [p.name for p in written] != [p.name for p in decided]:
        return None
    return [
        new.name
        for old, new in zip(written, decided, strict=True)
        if (old.type, old.date_order) != (new.type, new.date_order)
    ]


def reconvert(
    part: pa.Table,
    texts: pa.Table,
    plans: Sequence[ColumnPlanLike],
    changed: Sequence[str],
    decimal: str = ".",
) -> tuple[pa.Table, int]:
    """``part`` with the ``changed`` columns converted again from ``texts`` (their texts,
    row for row), and how many values in all failed their types.

    ``part`` holds at least the columns not changed and ``_exceptions``."""
    if part.num_rows != texts.num_rows:
        raise RowsDiffer(f"the part has {part.num_rows} rows and the texts {texts.num_rows}")
    again = [plan for plan in plans if plan.name in changed]
    typed, failures = convert_columns(texts, again, decimal=decimal)
    fresh = dict(zip((plan.name for plan in again), typed, strict=True))
    arrays = [
        fresh[plan.name] if plan.name in fresh else part.column(plan.name).combine_chunks()
        for plan in plans
    ]
    exceptions = merged_exceptions(
        part.column(EXCEPTIONS).combine_chunks(), set(changed), [p.name for p in plans], failures
    )
    arrays.append(exceptions)
    table = pa.Table.from_arrays(arrays, schema=typed_schema(plans))
    return table, len(exceptions.keys)


def merged_exceptions(
    kept: pa.MapArray, dropped: set[str], order: list[str], failures: list[Failure]
) -> pa.MapArray:
    """``kept``'s entries but those of the ``dropped`` columns, with the ``failures``
    added: per row, entries in column ``order``, as ``exceptions_column`` writes them."""
    length = len(kept)
    offsets = np.asarray(kept.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    rows = np.repeat(np.arange(length), np.diff(offsets))
    keys = kept.keys.slice(int(offsets[0]), len(rows))
    texts = kept.items.slice(int(offsets[0]), len(rows))
    if dropped:
        keep = pc.invert(pc.is_in(keys, value_set=pa.array(sorted(dropped), pa.string())))
        keep_np = keep.to_numpy(zero_copy_only=False)
        rows, keys, texts = rows[keep_np], keys.filter(keep), texts.filter(keep)
    row_parts, key_parts, text_parts = [rows], [keys], [texts]
    for name, failed, raw in failures:
        row_parts.append(failed)
        key_parts.append(pa.array(np.full(len(failed), name, dtype=object), pa.string()))
        text_parts.append(raw.take(pa.array(failed)).cast(pa.string()))
    all_rows = np.concatenate(row_parts).astype(np.int64)
    all_keys = pa.concat_arrays(key_parts)
    all_texts = pa.concat_arrays(text_parts)
    position = pc.index_in(all_keys, value_set=pa.array(order, pa.string()))
    by = np.lexsort((position.to_numpy(zero_copy_only=False), all_rows))
    counts = np.bincount(all_rows, minlength=length)
    new_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    taken = pa.array(by)
    return pa.MapArray.from_arrays(
        pa.array(new_offsets), all_keys.take(taken), all_texts.take(taken)
    )
