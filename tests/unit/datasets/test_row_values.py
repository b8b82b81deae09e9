"""Typed rows as JSON: each number the shortest decimal that round-trips in its type."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
from sluice.datasets.rows import rows_as_records, rows_as_values


def test_float32_values_render_as_their_shortest_decimal() -> None:
    # Before issue 18 a float32 459.9 came back as 459.8999938964844 (its float64 bits).
    table = pa.table(
        {
            "f32": pa.array([459.9, 0.137, 1.5, None, 16777216.0, 1e-7], pa.float32()),
            "f64": pa.array([459.9, 0.137, 0.1 + 0.2, None, 2.0**60, 1e-7], pa.float64()),
            "_exceptions": pa.array([[]] * 6, pa.map_(pa.string(), pa.string())),
        }
    )
    body = json.dumps(rows_as_records(table))
    assert '"f32": 459.9,' in body and '"f32": 0.137,' in body
    assert [r["f32"] for r in json.loads(body)] == [459.9, 0.137, 1.5, None, 16777216.0, 1e-7]
    assert [r["f64"] for r in json.loads(body)] == [459.9, 0.137, 0.1 + 0.2, None, 2.0**60, 1e-7]
    assert rows_as_values(table)[0] == [459.9, 459.9, {}]


def test_float32_json_matches_numpy_shortest_repr_on_random_bits() -> None:
    rng = np.random.default_rng(18)
    bits = rng.integers(0, 2**32, 20_000, dtype=np.uint64).astype(np.uint32)
    values = bits.view(np.float32)
    values = values[np.isfinite(values)]
    table = pa.table({"x": pa.array(values, pa.float32())})
    got = [r["x"] for r in rows_as_records(table)]
    for value, rendered in zip(values, got, strict=True):
        # numpy's shortest float32 decimal, read as a Python float, is what JSON carries.
        shortest = float(np.format_float_positional(value, unique=True, trim="-"))
        assert rendered == shortest or (math.isnan(rendered) and math.isnan(shortest))
        assert np.float32(rendered) == value  # it round-trips in float32


def test_non_finite_float32_values_are_json_words() -> None:
    table = pa.table({"x": pa.array([float("inf"), float("-inf"), float("nan")], pa.float32())})
    assert [r["x"] for r in rows_as_records(table)] == ["Infinity", "-Infinity", "NaN"]
