"""Histogram bins counted part by part add up to numpy.histogram's over the whole."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from sluice.operations.histogram_bins import as_numbers, bin_counts, edges, finite_range


def test_counts_per_part_add_up_to_numpys_over_the_whole() -> None:
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.normal(0, 1, 50_000), np.linspace(-2, 2, 41), [np.nan, np.inf]])
    parts = np.array_split(values, 7)
    low = min(r[0] for p in parts if (r := finite_range(p)))
    high = max(r[1] for p in parts if (r := finite_range(p)))
    for bins in (1, 7, 40, 333):
        bin_edges = edges(low, high, bins)
        counted = sum(bin_counts(p, bin_edges) for p in parts)
        expected, expected_edges = np.histogram(values[np.isfinite(values)], bins=bins)
        assert counted.tolist() == expected.tolist()
        assert bin_edges.tolist() == expected_edges.tolist()


def test_one_value_has_a_bin_of_width_one_around_it() -> None:
    counted = bin_counts(np.array([5.0, 5.0]), edges(5.0, 5.0, 4))
    assert counted.tolist() == np.histogram([5.0, 5.0], bins=4)[0].tolist()


def test_times_are_binned_by_their_ticks() -> None:
    column = pa.chunked_array([pa.array([0, 10, None, 20], pa.timestamp("ms"))])
    assert as_numbers(column).tolist() == [0.0, 10.0, 20.0]
