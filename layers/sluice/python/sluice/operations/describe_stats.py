"""Mergeable column statistics for describe: each part's, then their merge.

Numbers keep count, mean and M2 (the sum of squared deviations from the mean), merged
pairwise by Chan et al.'s formula, so that a mean and a standard deviation over billions
of rows come out as exactly as float64 allows, never from a sum of squares that cancels.
Integer columns also keep their exact sum (a Python integer, past int64 if need be), so
that their mean is the exact one rounded once, however near int64's edges the values are.
Categories and booleans keep every value's count (a category has at most
``max_categories`` values), so their top values are exact; texts' counts take describe's
shuffle instead (``library/describe.py``), since a text column may hold a value a row.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluice.inference.types import NUMBER_TYPES, TIME_TYPES, ColumnType

NUMERIC = NUMBER_TYPES | {ColumnType.DECIMAL}
INTEGERS = frozenset(t for t in NUMBER_TYPES if t.value.startswith("int"))
COUNTED = frozenset({ColumnType.CATEGORY, ColumnType.BOOL})
ORDERED = NUMERIC | TIME_TYPES | {ColumnType.STRING}


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):  # an exact integer sum: JSON's numbers have no bound
        return int(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "total_seconds"):
        return value.total_seconds()
    return value


def as_floats(values: pa.ChunkedArray) -> np.ndarray:
    """Number values as float64, nulls as NaN (an int64 or decimal past 2**53 rounded to
    the nearest, as DuckDB's casts round: an unchecked cast, not a refusal)."""
    floats = values.cast(pa.float64(), safe=False)
    return np.asarray(floats.to_numpy(zero_copy_only=False), dtype=np.float64)


def int_words(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An integer column's values split into their high 32 bits (signed) and low 32 bits
    (nulls as 0), and where it has a value: sums of either fit int64 for fewer than 2**31
    values, so an exact sum costs two numpy sums, not Python per row."""
    values = column.cast(pa.int64())
    present = np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    numbers = np.asarray(values.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
    return numbers >> 32, numbers & 0xFFFFFFFF, present


def exact_sum(column: pa.ChunkedArray) -> int:
    """The exact sum of an integer or decimal column's values (Arrow's int64 sum wraps;
    its decimal128 sum is exact)."""
    if pa.types.is_decimal(column.type):
        return int(pc.sum(column).as_py() or 0)
    high, low, _ = int_words(column)
    return (int(high.sum()) << 32) + int(low.sum())


def part_stats(
    column: pa.ChunkedArray, column_type: ColumnType, floats: np.ndarray | None = None
) -> dict[str, Any]:
    """One part's statistics of one column (JSON-ready); ``floats``: a number column's
    finite values as float64, in the column's order, where the caller has them already."""
    nulls = column.null_count
    stats: dict[str, Any] = {"count": len(column) - nulls, "nulls": nulls}
    if column_type in ORDERED and stats["count"]:
        bounds = pc.min_max(column)
        stats["min"], stats["max"] = _json(bounds["min"].as_py()), _json(bounds["max"].as_py())
    if column_type in NUMERIC and stats["count"]:
        if floats is None:
            values = as_floats(pc.drop_null(column))
            values = values[np.isfinite(values)]  # NaN and infinities have no mean to add to
        else:
            values = floats
        if len(values):
            mean = float(values.mean())
            stats["n"], stats["mean"] = len(values), mean
            stats["m2"] = float(((values - mean) ** 2).sum())
        if column_type in INTEGERS | {ColumnType.DECIMAL}:
            stats["sum"] = exact_sum(column)
    if column_type in COUNTED:
        counted = pc.value_counts(pc.drop_null(column).combine_chunks())
        stats["values"] = {
            _label(v): c
            for v, c in zip(
                counted.field("values").to_pylist(),
                counted.field("counts").to_pylist(),
                strict=True,
            )
        }
    return stats


def _label(value: Any) -> str:
    """A counted value as a JSON object's key: booleans as JSON writes them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _pick(a: Any, b: Any, better: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return better(a, b)


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The statistics of the rows of ``a`` and ``b`` together."""
    out: dict[str, Any] = {"count": a["count"] + b["count"], "nulls": a["nulls"] + b["nulls"]}
    if "min" in a or "min" in b:
        out["min"] = _pick(a.get("min"), b.get("min"), min)
        out["max"] = _pick(a.get("max"), b.get("max"), max)
    if "mean" in a and "mean" in b:
        n_a, n_b = a["n"], b["n"]
        delta = b["mean"] - a["mean"]
        out["n"] = n_a + n_b
        out["mean"] = a["mean"] + delta * n_b / (n_a + n_b)
        out["m2"] = a["m2"] + b["m2"] + delta * delta * n_a * n_b / (n_a + n_b)
    elif "mean" in a or "mean" in b:
        side = a if "mean" in a else b
        out["n"], out["mean"], out["m2"] = side["n"], side["mean"], side["m2"]
    if "sum" in a or "sum" in b:
        out["sum"] = a.get("sum", 0) + b.get("sum", 0)
    if "values" in a or "values" in b:
        values = dict(a.get("values", {}))
        for value, count in b.get("values", {}).items():
            values[value] = values.get(value, 0) + count
        out["values"] = values
    return out


def summary(name: str, column_type: ColumnType, stats: dict[str, Any], top: int) -> dict[str, Any]:
    """The column's line of describe's output: count, nulls, min, max, mean and the sample
    standard deviation (n - 1, as pandas and DuckDB's stddev), top values with counts
    (ties by value, in code point order: the order DuckDB and Arrow sort UTF-8 texts in)."""
    line: dict[str, Any] = {
        "name": name,
        "type": column_type.value,
        "count": stats["count"],
        "nulls": stats["nulls"],
    }
    if column_type in ORDERED:
        line["min"], line["max"] = stats.get("min"), stats.get("max")
    if column_type in NUMERIC:  # over the finite values (NaN and infinities left out)
        n = stats.get("n", 0)
        line["mean"] = stats.get("mean")
        if "sum" in stats and n:  # an integer column: the exact mean, rounded once
            line["mean"] = float(Fraction(stats["sum"], n))
        line["std"] = math.sqrt(stats["m2"] / (n - 1)) if n > 1 else None
    if column_type in COUNTED:
        ranked = sorted(stats.get("values", {}).items(), key=lambda item: (-item[1], item[0]))
        line["top"] = [{"value": value, "count": count} for value, count in ranked[:top]]
    return line
