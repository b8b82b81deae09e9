"""Sample's draws: n rows over several parts uniform over the whole dataset."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from sluice.operations.library.sample import allocation, keep_fraction, take_rows


def test_the_parts_shares_add_up_to_n_and_follow_their_sizes() -> None:
    parts = [1000, 10, 500, 0, 2490]
    draws = np.array([allocation(parts, 400, seed) for seed in range(2000)])
    assert set(draws.sum(axis=1)) == {400}
    assert draws[:, 3].max() == 0
    expected = np.array(parts) * 400 / sum(parts)
    assert np.allclose(draws.mean(axis=0), expected, rtol=0.02, atol=0.05)


def test_every_row_is_equally_likely_across_parts() -> None:
    parts = [30, 70]
    hits = np.zeros(100)
    for seed in range(3000):
        counts = allocation(parts, 10, seed)
        offset = 0
        for position, rows in enumerate(parts):
            table = pa.table({"i": np.arange(offset, offset + rows)})
            hits[take_rows(table, counts[position], seed, position)["i"].to_numpy()] += 1
            offset += rows
    assert np.allclose(hits / 3000, 0.1, atol=0.025)


def test_n_past_the_rows_takes_every_row() -> None:
    assert allocation([3, 4], 10, 1) == [3, 4]


def test_a_fraction_keeps_rows_in_order_and_is_seeded() -> None:
    table = pa.table({"i": np.arange(100_000)})
    kept = keep_fraction(table, 0.25, 7, 2)["i"].to_numpy()
    assert abs(len(kept) - 25_000) < 600 and (np.diff(kept) > 0).all()
    assert keep_fraction(table, 0.25, 7, 2)["i"].to_pylist() == kept.tolist()
    assert keep_fraction(table, 0.25, 8, 2)["i"].to_pylist() != kept.tolist()
