"""Range-partitioned sorting, run part by part and bucket by bucket, gives the stable
sort of the whole; equal keys spread over the buckets."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sluice.operations.sorting import (
    TIES,
    boundaries,
    bucket_of,
    order,
    sample_rows,
    sort_keys,
    split,
    with_ties,
)


def parts_of(seed: int) -> list[pa.Table]:
    rng = np.random.default_rng(seed)
    parts = []
    for size in (300, 0, 57, 500, 143):
        a = rng.integers(0, 5, size).astype(float)
        a[rng.random(size) < 0.1] = np.nan  # NaN and nulls both
        parts.append(
            pa.table(
                {
                    "a": pa.array(a, mask=rng.random(size) < 0.1),
                    "b": pa.array(
                        [f"k{v}" for v in rng.integers(0, 30, size)], pa.string()
                    ).dictionary_encode(),
                    "c": np.arange(size),
                }
            )
        )
    return parts


def range_sorted(
    parts: list[pa.Table],
    buckets: int,
    by: list[str],
    desc: set[str],
    nulls: Literal["first", "last"],
) -> tuple[pa.Table, list[int]]:
    tied = [with_ties(p, i) for i, p in enumerate(parts)]
    samples = pa.concat_tables(
        [sort_keys(t, by).take(sample_rows(t.num_rows, 0.2, i)) for i, t in enumerate(tied)]
    )
    bounds = boundaries(samples, buckets, by, desc, nulls)
    shuffled: list[list[pa.Table]] = [[] for _ in range(buckets)]
    for t in tied:
        for b, piece in enumerate(
            split(t, bucket_of(sort_keys(t, by), bounds, by, desc, nulls), buckets)
        ):
            shuffled[b].append(piece)
    out = []
    for pieces in shuffled:
        rows = pa.concat_tables(pieces)
        out.append(rows.take(order(sort_keys(rows, by), by, desc, nulls)))
    return pa.concat_tables(out), [t.num_rows for t in out]


def test_the_buckets_in_order_are_the_stable_sort_of_the_whole() -> None:
    parts = parts_of(1)
    for by, desc, nulls in (
        (["a"], set(), "last"),
        (["a", "b"], {"a"}, "first"),
        (["b", "a"], {"b", "a"}, "last"),
    ):
        got, _ = range_sorted(parts, 6, by, desc, nulls)  # type: ignore[arg-type]
        whole = pa.concat_tables([with_ties(p, i) for i, p in enumerate(parts)])
        expected = whole.take(order(sort_keys(whole, by), by, desc, nulls))  # type: ignore[arg-type]
        assert got.select([*TIES]).to_pylist() == expected.select([*TIES]).to_pylist()
        # ... which sorts as pyarrow sorts the values alone, stably.
        place = "at_start" if nulls == "first" else "at_end"
        plain = [(n, "descending" if n in desc else "ascending", place) for n in by]
        types = {"a": pa.float64(), "b": pa.string()}
        keys = whole.select(by).cast(pa.schema([(n, types[n]) for n in by]))
        indices = pc.sort_indices(keys, sort_keys=plain)
        assert got.column("c").to_pylist() == whole.take(indices).column("c").to_pylist()


def test_one_repeated_key_still_spreads_over_every_bucket() -> None:
    parts = [pa.table({"a": np.zeros(1000)}) for _ in range(4)]
    got, sizes = range_sorted(parts, 5, ["a"], set(), "last")
    assert got.num_rows == 4000
    assert min(sizes) > 400  # 800 each, give or take the sample's spread
