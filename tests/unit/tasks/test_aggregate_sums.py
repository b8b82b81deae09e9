"""aggregate_sums: integer sums travel in one exact column where no sum can leave int64,
as limbs where one could, and merge exactly either way (against Python's integers)."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
from sluice.tasks.aggregate import AggregateSpec, Aggregation, merge_partials, partial_aggregate

SUM_X = AggregateSpec(group_by=["k"], aggregations=[Aggregation(column="x", op="sum")])
SUM_AND_MEAN = AggregateSpec(
    group_by=["k"],
    aggregations=[Aggregation(column="x", op="sum"), Aggregation(column="x", op="mean")],
)


def _sum_columns(partial: pa.Table) -> dict[str, pa.DataType]:
    return {f.name: f.type for f in partial.schema if f.name.startswith("__agg0_sum")}


def _merged(tables: list[pa.Table], spec: AggregateSpec) -> list[dict[str, object]]:
    partials = [p for t in tables for p in partial_aggregate(t, spec, 1)]
    return sorted(merge_partials(partials, spec).to_pylist(), key=lambda r: str(r["k"]))


def test_a_part_of_distinct_keys_sends_small_integers_as_they_are_in_one_column() -> None:
    table = pa.table({"k": [f"s{i}" for i in range(100)], "x": pa.array(range(100), pa.int16())})
    [partial] = partial_aggregate(table, SUM_X, 1)
    assert _sum_columns(partial) == {"__agg0_sum_int": pa.int16()}


def test_a_part_of_repeated_keys_sends_its_small_integer_sums_as_one_int64_column() -> None:
    table = pa.table({"k": ["a", "b"] * 50, "x": pa.array(range(100), pa.int16())})
    [partial] = partial_aggregate(table, SUM_X, 1)
    assert _sum_columns(partial) == {"__agg0_sum_int": pa.int64()}
    keys, sums = partial.column("k").to_pylist(), partial.column("__agg0_sum_int").to_pylist()
    assert dict(zip(keys, sums, strict=True)) == {
        "a": sum(range(0, 100, 2)),
        "b": sum(range(1, 100, 2)),
    }


def test_an_int64_column_of_small_values_sums_in_one_column_to_a_decimal() -> None:
    table = pa.table({"k": ["a", "a", "b", None], "x": pa.array([1, 2, None, 4], pa.int64())})
    [partial] = partial_aggregate(table, SUM_AND_MEAN, 1)
    assert _sum_columns(partial) == {"__agg0_sum_bigint": pa.int64()}
    merged = merge_partials([partial], SUM_AND_MEAN)
    assert merged.schema.field("sum_x").type == pa.decimal128(38, 0)
    rows = sorted(merged.to_pylist(), key=lambda r: str(r["k"]))
    assert rows == [
        {"k": None, "sum_x": Decimal(4), "mean_x": 4.0},
        {"k": "a", "sum_x": Decimal(3), "mean_x": 1.5},
        {"k": "b", "sum_x": None, "mean_x": None},
    ]


def test_a_part_whose_sums_could_leave_int64_sends_limbs() -> None:
    table = pa.table({"k": ["a", "a"], "x": pa.array([2**62, 2**62], pa.int64())})
    [partial] = partial_aggregate(table, SUM_X, 1)
    assert set(_sum_columns(partial)) == {"__agg0_sum_hi", "__agg0_sum_mid", "__agg0_sum_lo"}


def test_parts_that_fit_int64_alone_but_not_together_merge_exactly_past_it() -> None:
    # Each part's 2 rows of 2**61 sum within int64; the bucket's 6 rows do not.
    parts = [pa.table({"k": ["a", "a"], "x": pa.array([2**61, 2**61], pa.int64())})] * 3
    assert all(
        _sum_columns(partial_aggregate(t, SUM_X, 1)[0]) == {"__agg0_sum_bigint": pa.int64()}
        for t in parts
    )
    assert _merged(parts, SUM_AND_MEAN) == [
        {"k": "a", "sum_x": Decimal(6 * 2**61), "mean_x": float(2**61)}
    ]


def test_a_bucket_of_one_column_sums_and_limbs_from_different_parts_merges_exactly() -> None:
    small = pa.table({"k": ["a", "b"], "x": pa.array([-5, 7], pa.int64())})
    huge = pa.table({"k": ["a", "a"], "x": pa.array([2**63 - 1, 2**63 - 1], pa.int64())})
    assert _merged([small, huge], SUM_X) == [
        {"k": "a", "sum_x": Decimal(2 * (2**63 - 1) - 5)},
        {"k": "b", "sum_x": Decimal(7)},
    ]


def test_boolean_and_narrow_integer_sums_merge_across_parts_as_int64() -> None:
    bools = [pa.table({"k": ["a", "b", "a"], "x": [True, True, None]})] * 2
    assert _merged(bools, SUM_X) == [{"k": "a", "sum_x": 2}, {"k": "b", "sum_x": 2}]
    ints = [
        pa.table({"k": ["a"], "x": pa.array([2**31 - 1], pa.int32())}),
        pa.table({"k": ["a", "b"], "x": pa.array([2**31 - 1, -(2**31)], pa.int32())}),
    ]
    merged = _merged(ints, SUM_X)
    assert merged == [{"k": "a", "sum_x": 2 * (2**31 - 1)}, {"k": "b", "sum_x": -(2**31)}]
