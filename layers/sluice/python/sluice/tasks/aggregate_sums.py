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

One column where it is exact. Where no sum of a part's values can leave int64 (its rows
times its largest magnitude stay under 2**63: BMAT's plays, any int16, ...), the part
carries its sums as one column, ``__agg{i}_sum_int`` for a boolean or narrower integer
and ``__agg{i}_sum_bigint`` for an int64 column: the values themselves where its rows
pass ungrouped (in their own type), else int64 sums. The reducer sums such a column as it
is where the same bound holds over the whole bucket, and splits it into limbs where it
does not, or where another part sent limbs. For BMAT's 1 GB file that spared the shuffle
two int64 columns of 18.9M rows where one int16 column does.
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


INT_SUM = "int"
"""``__agg{i}_sum_int``: a boolean's or narrower integer's sums in one exact column."""
BIGINT_SUM = "bigint"
"""``__agg{i}_sum_bigint``: an int64 column's sums in one exact column (output decimal)."""
_INT64_LIMIT = 1 << 63


def largest_magnitude(columns: list[Any]) -> int:
    """The largest absolute value in integer ``columns`` (0 when all are empty or null)."""
    largest = 0
    for column in columns:
        found = pc.min_max(column)
        low, high = found["min"].as_py(), found["max"].as_py()
        if low is not None:
            largest = max(largest, abs(int(low)), abs(int(high)))
    return largest


def sums_fit(columns: list[Any], rows: int) -> bool:
    """Whether no sum of up to ``rows`` values of ``columns`` can leave int64."""
    return largest_magnitude(columns) * max(rows, 1) < _INT64_LIMIT


def one_column_form(column: Any, rows: int) -> str | None:
    """The one-column form of an integer or boolean column's exact sums over a part of
    ``rows`` rows (see "One column where it is exact"), None where they need limbs."""
    if pa.types.is_boolean(column.type):
        return INT_SUM
    if not sums_fit([column], rows):
        return None
    return BIGINT_SUM if pa.types.is_int64(column.type) else INT_SUM


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
    """The partial columns that carry aggregation ``p``'s sums: one float64, one exact
    integer column, or limbs."""
    for name in (f"{p}_sum", f"{p}_sum_{INT_SUM}", f"{p}_sum_{BIGINT_SUM}"):
        if name in names:
            return [name]
    limbs = WIDE_LIMBS if f"{p}_sum_hi" in names else NARROW_LIMBS
    return [f"{p}_sum_{limb}" for limb in limbs]


def sum_family(names: list[str], p: str) -> str:
    """What aggregation ``p``'s sums add up: "float", "narrow" (a boolean or narrower
    integer: an int64 output) or "wide" (an int64 column: a decimal output)."""
    if f"{p}_sum" in names:
        return "float"
    if f"{p}_sum_{BIGINT_SUM}" in names or f"{p}_sum_hi" in names:
        return "wide"
    return "narrow"


def same_sum_forms(partials: list[pa.Table], p: str) -> list[pa.Table]:
    """The partials with aggregation ``p``'s integer sums in one form (its family's
    checked the same by the caller): one int64 column where every partial sent one and no
    group of the bucket can sum past int64 (its rows times its largest magnitude), else
    limbs, a one-column partial's values split into them."""
    names = [t.column_names for t in partials]
    if any(sum_family(n, p) == "float" for n in names):
        return partials
    single = {sum_columns(n, p)[0] for n in names if len(sum_columns(n, p)) == 1}
    if not single:
        return partials  # limbs from every part
    (name,) = single
    columns = [t.column(name) for t in partials if name in t.column_names]
    rows = sum(t.num_rows for t in partials)
    if len(columns) == len(partials) and sums_fit(columns, rows):
        return [
            t.set_column(t.schema.get_field_index(name), name, pc.cast(t.column(name), pa.int64()))
            for t in partials
        ]
    limbs = WIDE_LIMBS if name.endswith(BIGINT_SUM) else NARROW_LIMBS
    out = []
    for table in partials:
        if name not in table.column_names:
            out.append(table)
            continue
        values = pc.cast(table.column(name), pa.int64()).combine_chunks()
        mask = np.asarray(values.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        split = _split_limbs(numbers(values), len(limbs))
        at = table.schema.get_field_index(name)
        table = table.remove_column(at)
        for offset, (limb, part) in enumerate(zip(limbs, split, strict=True)):
            table = table.add_column(at + offset, f"{p}_sum_{limb}", pa.array(part, mask=mask))
        out.append(table)
    return out


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
        if sums[0].endswith(f"_sum_{BIGINT_SUM}_sum"):
            return pc.cast(merged.column(sums[0]), WIDE_SUM)
        return merged.column(sums[0])  # float64, or an exact int64 (same_sum_forms)
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
    if len(sums) == 1:  # float64, or an exact int64 rounded to float64 once
        total = pc.cast(merged.column(sums[0]), pa.float64())
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
