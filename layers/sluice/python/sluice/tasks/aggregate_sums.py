"""Exact integer sums. Arrow's sums of int64 wrap modulo 2**64 without a word, so an integer
sum travels as limbs of 21 bits: ``value = hi * 2**42 + mid * 2**21 + lo`` with ``mid`` and
``lo`` in ``[0, 2**21)`` (an int64 column splits each value so, by shifts and masks);
booleans and narrower integers, whose sums within a part fit int64, carry ``mid`` and
``lo`` of their part's sums only. Each limb is summed by Arrow as an int64, which cannot
wrap for fewer than 2**42 rows, and a partial carries its limbs carried back into range.
The reducer adds the limbs and puts the total together: int64 arithmetic where it fits,
Python's integers where it does not. The sum of an int64 column is a ``decimal128(38, 0)``
(as DuckDB's is a HUGEINT), exact past int64; that of a narrower integer or boolean
column an int64 (it fits for fewer than 2**32 rows; past int64 the task fails, never
wraps). A mean divides the exact sum by the count in float64 (the sum rounded to float64
once, then the division), and a float sum adds in float64.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluice.tasks.aggregate_output import numbers

LIMB_BITS = 21
_LIMB_MASK = (1 << LIMB_BITS) - 1
WIDE_LIMBS = ("hi", "mid", "lo")
"""The limbs of an int64 column's sums (see "Exact integer sums" in the module doc)."""
NARROW_LIMBS = ("mid", "lo")
"""The limbs of a boolean's or narrower integer's sums."""
WIDE_SUM = pa.decimal128(38, 0)
"""The type of an int64 column's sum: 38 digits hold any sum of fewer than 2**63 rows."""


def sum_limbs(arrow: pa.DataType) -> tuple[str, ...]:
    """The limbs a sum of a column of ``arrow`` travels in; () for floats (one float64)."""
    if pa.types.is_floating(arrow):
        return ()
    return WIDE_LIMBS if pa.types.is_int64(arrow) else NARROW_LIMBS


def row_sum_sources(column: pa.ChunkedArray, p: str, limbs: tuple[str, ...]) -> dict[str, pa.Array]:
    """What a part sums per group for an exact sum of ``column``: an int64 column's values
    split into ``limbs`` (each sum of them fits int64), a narrower one's values as they are
    (their sum fits int64 in a part)."""
    values = pc.cast(column, pa.int64()).combine_chunks()
    if limbs != WIDE_LIMBS:
        return {f"{p}_whole": values}
    mask = np.asarray(values.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    return {
        f"{p}_{limb}": pa.array(part, mask=mask)
        for limb, part in zip(limbs, _split_limbs(numbers(values), len(limbs)), strict=True)
    }


def _split_limbs(values: np.ndarray, count: int) -> list[np.ndarray]:
    """int64 ``values`` as ``count`` limbs, top first: every limb but the top in
    ``[0, 2**21)``, the top signed (shifts are arithmetic)."""
    limbs = []
    for _ in range(count - 1):
        limbs.append(values & _LIMB_MASK)
        values = values >> LIMB_BITS
    limbs.append(values)
    return limbs[::-1]


def _carried(limbs: list[np.ndarray]) -> list[np.ndarray]:
    """Sums of limbs (top first) with every limb but the top back in ``[0, 2**21)``."""
    limbs = list(limbs)
    for j in range(len(limbs) - 1, 0, -1):
        limbs[j - 1] = limbs[j - 1] + (limbs[j] >> LIMB_BITS)
        limbs[j] = limbs[j] & _LIMB_MASK
    return limbs


def _limb_arrays(columns: list[Any]) -> tuple[list[np.ndarray], np.ndarray]:
    """int64 columns as numpy arrays (null -> 0; read-only where a column had no nulls:
    Arrow's own memory), and where the first is null."""
    mask = np.asarray(columns[0].is_null().to_numpy(zero_copy_only=False), dtype=bool)
    return [numbers(c).astype(np.int64, copy=False) for c in columns], mask


def group_limbs(columns: list[Any], count: int) -> list[pa.Array]:
    """A part's per-group sums (of limbs, or of whole values) as ``count`` carried limbs;
    null where the group had no value to sum."""
    arrays, mask = _limb_arrays(columns)
    # Whole values split into limbs are in range already; sums of limbs need carrying.
    limbs = _split_limbs(arrays[0], count) if len(arrays) == 1 else _carried(arrays)
    return [pa.array(limb, mask=mask) for limb in limbs]


def sum_columns(names: list[str], p: str) -> list[str]:
    """The partial columns that carry aggregation ``p``'s sums: one float64, or limbs."""
    if f"{p}_sum" in names:
        return [f"{p}_sum"]
    limbs = WIDE_LIMBS if f"{p}_sum_hi" in names else NARROW_LIMBS
    return [f"{p}_sum_{limb}" for limb in limbs]


def exact_totals(
    merged: pa.Table, sums: list[str]
) -> tuple[np.ndarray, np.ndarray, dict[int, int]]:
    """The groups' exact sums from their summed limbs: int64 values (0 where null or too
    large), where null, and the sums past int64 by row (as Python integers)."""
    arrays, mask = _limb_arrays([merged.column(name) for name in sums])
    limbs = _carried(arrays)
    shift = LIMB_BITS * (len(limbs) - 1)
    rest = np.zeros(len(mask), dtype=np.int64)
    for limb in limbs[1:]:
        rest = (rest << LIMB_BITS) | limb
    top = limbs[0]
    # top * 2**shift + rest, rest in [0, 2**shift): within int64 exactly when top is.
    fits = (top >= -(1 << (63 - shift))) & (top < (1 << (63 - shift)))
    totals = np.where(fits, (top << shift) + rest, 0)
    wide = {
        int(row): (int(top[row]) << shift) + int(rest[row]) for row in np.flatnonzero(~fits & ~mask)
    }
    return totals, mask, wide


def final_sum(merged: pa.Table, sums: list[str], column: str) -> pa.Array | pa.ChunkedArray:
    """A sum's output: float64 for floats; the exact sum for integers (see the module doc)."""
    if len(sums) == 1:
        return merged.column(sums[0])
    totals, mask, wide = exact_totals(merged, sums)
    if len(sums) == len(NARROW_LIMBS):
        if wide:
            raise OverflowError(f"the sum of {column!r} in a group leaves int64")
        return pa.array(totals, pa.int64(), mask=mask)
    if not wide:
        return pc.cast(pa.array(totals, pa.int64(), mask=mask), WIDE_SUM)
    values: list[Decimal | None] = [
        None if null else Decimal(wide.get(row, int(total)))
        for row, (total, null) in enumerate(zip(totals, mask, strict=True))
    ]
    return pa.array(values, WIDE_SUM)


def final_mean(
    merged: pa.Table, sums: list[str], count: pa.ChunkedArray
) -> pa.Array | pa.ChunkedArray:
    """sum / count in float64, null for a group of no values; an integer sum exact first,
    then rounded to float64 once (a sum past int64 divided exactly, then rounded)."""
    if len(sums) == 1:
        total = merged.column(sums[0])
    else:
        totals, mask, wide = exact_totals(merged, sums)
        total = pa.array(totals.astype(np.float64), pa.float64(), mask=mask)
    out = pc.if_else(pc.greater(count, 0), pc.divide(total, count), None)
    if len(sums) > 1 and wide:
        means = out.to_pylist()
        counts = count.to_pylist()
        for row, exact in wide.items():
            means[row] = float(Fraction(exact, counts[row]))
        out = pa.array(means, pa.float64())
    return out
