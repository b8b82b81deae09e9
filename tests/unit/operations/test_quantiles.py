"""Exact quantiles from sampled cuts, counts per slot and one interval's values."""

from __future__ import annotations

import numpy as np
import pytest
from sluice.operations import quantiles as qs


def exact(parts: list[np.ndarray], q: float) -> float:
    """The quantile as describe's steps find it, part by part."""
    sampled = np.concatenate([qs.sample(p, 0.05, i) for i, p in enumerate(parts)])
    at = qs.cuts(sampled, 16)
    counts: dict[int, int] = {}
    for part in parts:
        for slot, count in qs.slot_counts(part, at).items():
            counts[slot] = counts.get(slot, 0) + count
    n = sum(counts.values())
    found = []
    for rank in qs.ranks(n, q):
        slot, within = qs.locate(counts, rank)
        if slot % 2:
            found.append(float(at[slot // 2]))
        else:
            low, high = qs.interval(at, slot)
            inside = np.concatenate([p[(p > low) & (p < high)] for p in parts])
            found.append(float(np.sort(inside)[within]))
    return qs.interpolate(n, q, *found)


@pytest.mark.parametrize("q", [0.25, 0.5, 0.75])
def test_quantiles_are_numpys_over_the_whole(q: float) -> None:
    rng = np.random.default_rng(4)
    parts = [rng.normal(0, 1, 3000), rng.exponential(2, 1001), np.arange(50.0), np.array([])]
    assert exact(parts, q) == np.quantile(np.concatenate(parts), q)


def test_a_repeated_value_is_found_at_its_cut() -> None:
    parts = [np.full(5000, 7.0), np.concatenate([np.full(10, 1.0), np.full(10, 9.0)])]
    assert exact(parts, 0.5) == 7.0
    assert exact([np.array([1.0, 2.0])], 0.5) == 1.5


def test_the_windows_around_the_sampled_quartiles_hold_the_intervals_of_their_ranks() -> None:
    rng = np.random.default_rng(5)
    values = rng.lognormal(size=200_000)
    sampled = np.sort(qs.sample(values, qs.SAMPLES_PER_CUT * qs.CUTS / len(values), 1))
    at = qs.cuts(sampled)
    windows = qs.windows(sampled, at)
    assert len(windows) == len(qs.QUANTILES)
    ranked = np.sort(values)
    for (_, q), (first, last) in zip(qs.QUANTILES, windows, strict=True):
        assert last - first == 2 * qs.WINDOW_INTERVALS + 1
        for rank in qs.ranks(len(values), q):
            low, high = qs.window_bounds(at, [first, last])
            assert low < ranked[rank] < high


def test_a_window_at_either_end_is_unbounded_there() -> None:
    at = np.array([1.0, 2.0, 3.0])
    assert qs.windows(np.array([0.5, 0.6, 0.7, 3.5]), at, width=1) == [[0, 2], [0, 2], [0, 2]]
    assert qs.window_bounds(at, [0, 2]) == (-np.inf, 3.0)
    assert qs.window_bounds(at, [2, 3]) == (2.0, np.inf)
    assert qs.windows(np.array([]), at) == []


@pytest.mark.parametrize("q", [0.25, 0.5, 0.75])
def test_a_quantiles_ranks_are_read_from_the_windows_the_parts_counted_below(q: float) -> None:
    """Each part counts its values at or below each window and sends those inside; the
    counts added up place the windows' sorted values among the ranks: numpy's quantile,
    no part sorted."""
    rng = np.random.default_rng(6)
    parts = [rng.normal(0, 1, 30_000), rng.exponential(2, 10_001), np.repeat(0.5, 5_000)]
    whole = np.concatenate(parts)
    sampled = np.sort(np.concatenate([qs.sample(p, 0.2, i) for i, p in enumerate(parts)]))
    at = qs.cuts(sampled)
    windows = qs.windows(sampled, at)
    below = [0] * len(windows)
    sent = []
    for part in parts:
        counted, near = qs.below_and_near(part, at, windows)
        below = [a + b for a, b in zip(below, counted, strict=True)]
        sent.append(near)
        assert len(near) < len(part) / 8
    values = np.concatenate(sent)
    inside = [
        np.sort(values[(values > low) & (values < high)])
        for low, high in (qs.window_bounds(at, w) for w in windows)
    ]
    found = [qs.rank_in_windows(r, below, inside) for r in qs.ranks(len(whole), q)]
    assert None not in found
    assert qs.interpolate(len(whole), q, *found) == np.quantile(whole, q)


def test_a_rank_outside_every_window_is_not_guessed() -> None:
    inside = [np.array([4.0, 5.0]), np.array([9.0])]
    assert qs.rank_in_windows(3, [2, 7], inside) == 5.0
    assert qs.rank_in_windows(7, [2, 7], inside) == 9.0
    assert qs.rank_in_windows(4, [2, 7], inside) is None
    assert qs.rank_in_windows(0, [], []) is None
