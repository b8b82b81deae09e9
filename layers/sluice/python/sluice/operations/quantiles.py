"""Exact quantiles of a number column at any size, in describe's passes.

Survey: each part samples its finite values. Settle: the sorted sample gives ``CUTS``
values at equal shares (duplicates dropped), and around each quantile's estimate from
the sample a window: ``WINDOW_INTERVALS`` intervals between cuts either side, an open
range of values. Parts: for each window, each part counts its finite values at or below
the range (``below_and_near``, a comparison a value, no sort) and sends the values
inside any window's range to the column's bucket (some 3% of them). Buckets: one per
column; the counts added up place each window's sorted values among the ranks, so a
rank inside a window is read from them (``rank_in_windows``). A rank outside every
window (the sample missed it by more than a window: very rarely) takes the column read
again: each part's counts per slot between the cuts (alternately an open interval and a
cut's own value: ``(-inf, c0), {c0}, (c0, c1), ..., {c_m-1}, (c_m-1, inf)``) give the
slot holding the rank, a cut's slot is that value, else the interval's values are read
(about rows / ``CUTS``), sorted, and the rank picked. Quantiles interpolate linearly
between the two ranks around (n - 1) q, as numpy's default, pandas' and DuckDB's
``quantile_cont`` do.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

CUTS = 256
SAMPLES_PER_CUT = 64
WINDOW_INTERVALS = 3
"""How many intervals either side of the one a quantile's sampled estimate lies in each
part sends on (``windows``): the sample's rank error is under one interval's share
(sd sqrt(q (1 - q) / (SAMPLES_PER_CUT CUTS)) < 1 / CUTS) on all but very few runs."""
QUANTILES = (("q1", 0.25), ("median", 0.5), ("q3", 0.75))


def finite(values: np.ndarray) -> np.ndarray:
    return values[np.isfinite(values)]


def sample(values: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Each value kept with probability ``fraction``."""
    rng = np.random.default_rng(seed)
    return values[rng.random(len(values)) < fraction]


def cuts(samples: np.ndarray, count: int = CUTS) -> np.ndarray:
    """Up to ``count`` distinct sampled values at equal shares of the sorted sample."""
    if len(samples) == 0:
        return np.array([], dtype=np.float64)
    ranked = np.sort(samples)
    positions = (np.arange(1, count + 1) * len(ranked)) // (count + 1)
    return np.unique(ranked[positions])


def slot_counts(values: np.ndarray, at: np.ndarray) -> dict[int, int]:
    """How many of ``values`` fall in each slot the cuts ``at`` make (nonzero ones).

    The values are sorted once and the cuts looked up in them (2 x 256 searches), rather
    than each value looked up among the cuts: a contiguous sort is some 3x faster than a
    binary search per value, whose every step is a cache miss of an unpredictable branch."""
    ranked = np.sort(values)
    left = np.searchsorted(ranked, at, side="left")
    right = np.searchsorted(ranked, at, side="right")
    counted = np.empty(2 * len(at) + 1, dtype=np.int64)
    counted[0::2] = np.append(left, len(ranked)) - np.concatenate([[0], right])  # intervals
    counted[1::2] = right - left  # each cut's own value
    return {int(s): int(counted[s]) for s in np.flatnonzero(counted)}


def ranks(n: int, q: float) -> tuple[int, int]:
    """The ranks (from 0) below and above the position (n - 1) q."""
    position = (n - 1) * q
    return math.floor(position), math.ceil(position)


def locate(counts: dict[int, int], rank: int) -> tuple[int, int]:
    """The slot holding the ``rank``-th value and its rank within the slot."""
    seen = 0
    for slot in sorted(counts):
        if rank < seen + counts[slot]:
            return slot, rank - seen
        seen += counts[slot]
    raise ValueError(f"rank {rank} is past the {seen} values counted")


def interval(at: np.ndarray, slot: int) -> tuple[float, float]:
    """The open interval an even slot stands for."""
    j = slot // 2
    low = at[j - 1] if j > 0 else -np.inf
    high = at[j] if j < len(at) else np.inf
    return float(low), float(high)


def interpolate(n: int, q: float, below: float, above: float) -> float:
    position = (n - 1) * q
    return below + (above - below) * (position - math.floor(position))


def windows(ranked: np.ndarray, at: np.ndarray, width: int = WINDOW_INTERVALS) -> list[list[int]]:
    """For each quantile, the intervals (``[first, last]`` by index j: interval j is
    ``(at[j - 1], at[j])``, unbounded past either end) within ``width`` of the one its
    estimate from the sorted sample ``ranked`` lies in or next to. Each part sends every
    value inside them to the column's bucket, which then reads the column again only if
    a rank falls outside them all (``rank_in_windows``)."""
    if len(ranked) == 0:
        return []
    found = []
    for _, q in QUANTILES:
        estimate = ranked[round((len(ranked) - 1) * q)]
        j = int(np.searchsorted(at, estimate, side="left"))  # its interval, or its cut's
        found.append([max(j - width, 0), min(j + 1 + width, len(at))])
    return found


def window_bounds(at: np.ndarray, window: list[int]) -> tuple[float, float]:
    """The open range of values a window's intervals hold."""
    first, last = window
    return interval(at, 2 * first)[0], interval(at, 2 * last)[1]


def below_and_near(
    values: np.ndarray, at: np.ndarray, windows: list[list[int]]
) -> tuple[list[int], np.ndarray]:
    """For each window, how many of a part's finite ``values`` lie at or below its range;
    and the values inside any window's range, in their order (each once)."""
    below = []
    near = np.zeros(len(values), dtype=bool)
    for window in windows:
        low, high = window_bounds(at, window)
        below.append(int(np.count_nonzero(values <= low)))
        near |= (values > low) & (values < high)
    return below, values[near]


def rank_in_windows(rank: int, below: list[int], inside: list[np.ndarray]) -> float | None:
    """The value at ``rank`` (from 0) where a window holds it: ``below[w]`` values lie at
    or below window w's range and ``inside[w]`` are the values inside it, sorted. None
    when no window holds the rank."""
    for start, values in zip(below, inside, strict=True):
        if start <= rank < start + len(values):
            return float(values[rank - start])
    return None


def add_quantiles(columns: list[dict[str, Any]], ranked: list[dict[str, Any]]) -> None:
    """Each number column's q1, median and q3 (in describe's output ``columns``) from the
    values at the ranks around them (the rank buckets' ``ranked``: each rank below before
    its above)."""
    found: dict[tuple[str, str], list[float]] = {}
    counts: dict[str, int] = {}
    for item in ranked:
        found.setdefault((item["column"], item["quantile"]), []).append(item["value"])
        counts[item["column"]] = item["n"]
    for line in columns:
        for label, q in QUANTILES:
            values = found.get((line["name"], label))
            if values is None:
                continue
            n = counts[line["name"]]
            below, above = values if len(values) == 2 else (values[0], values[0])
            line[label] = None if not n else interpolate(n, q, below, above)
