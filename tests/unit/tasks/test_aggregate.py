"""The aggregation engine: partials per part, merged per bucket, against independent results."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import math
import re
import subprocess
import sys
from fractions import Fraction
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError
from sluice.cli.demo_data import write_demo_data
from sluice.inference.types import ColumnType
from sluice.tasks import aggregate, aggregate_distinct
from sluice.tasks.aggregate import (
    AggOp,
    AggregateSpec,
    Aggregation,
    Predicate,
    bmat_preset,
    bucket_count,
    merge_partials,
    needed_columns,
    partial_aggregate,
    validate_spec,
    write_outputs,
)
from sluice.tasks.aggregate_output import hash_buckets, key_buckets, key_hash

ALL_OPS = [
    Aggregation(column="x_int", op=AggOp.SUM),
    Aggregation(column="x_float", op=AggOp.SUM),
    Aggregation(column="x_bool", op=AggOp.SUM),
    Aggregation(column="x_int", op=AggOp.COUNT),
    Aggregation(column="*", op=AggOp.COUNT),
    Aggregation(column="x_int", op=AggOp.MEAN),
    Aggregation(column="x_float", op=AggOp.MEAN),
    Aggregation(column="x_int", op=AggOp.MIN),
    Aggregation(column="x_float", op=AggOp.MAX),
    Aggregation(column="x_str", op=AggOp.MIN),
    Aggregation(column="x_ts", op=AggOp.MAX),
    Aggregation(column="x_dur", op=AggOp.MIN),
    Aggregation(column="x_cat", op=AggOp.MAX),
    Aggregation(column="x_int", op=AggOp.COUNT_DISTINCT),
    Aggregation(column="x_str", op=AggOp.COUNT_DISTINCT),
    Aggregation(column="x_cat", op=AggOp.COUNT_DISTINCT),
    Aggregation(column="k_int", op=AggOp.COUNT_DISTINCT),
]

ARROW_OP = {
    AggOp.SUM: "sum",
    AggOp.COUNT: "count",
    AggOp.MEAN: "mean",
    AggOp.MIN: "min",
    AggOp.MAX: "max",
    AggOp.COUNT_DISTINCT: "count_distinct",
}

SCHEMA = {
    "k_int": ColumnType.INT32,
    "k_str": ColumnType.STRING,
    "k_ts": ColumnType.DATETIME,
    "k_cat": ColumnType.CATEGORY,
    "x_int": ColumnType.INT64,
    "x_float": ColumnType.FLOAT64,
    "x_bool": ColumnType.BOOL,
    "x_str": ColumnType.STRING,
    "x_ts": ColumnType.DATETIME,
    "x_dur": ColumnType.TIMEDELTA,
    "x_cat": ColumnType.CATEGORY,
}


def _with_nulls(rng: np.random.Generator, values: list[Any], share: float) -> list[Any]:
    return [None if rng.random() < share else v for v in values]


def random_table(seed: int, rows: int = 600) -> pa.Table:
    rng = np.random.default_rng(seed)
    words = ["apple", "Banana", "cherry, ripe", "", "dátil", "elder"]
    days = [dt.datetime(2024, 1, d) for d in (1, 2, 3)]
    ints = rng.integers(-50, 50, rows).tolist()
    floats = (rng.normal(size=rows) * 100).tolist()
    cat = pa.array(_with_nulls(rng, rng.choice(["red", "green", "blue"], rows).tolist(), 0.1))
    table = pa.table(
        {
            "k_int": pa.array(_with_nulls(rng, rng.integers(0, 5, rows).tolist(), 0.1), pa.int32()),
            "k_str": pa.array(_with_nulls(rng, rng.choice(words, rows).tolist(), 0.1)),
            "k_ts": pa.array(
                _with_nulls(rng, [days[i] for i in rng.integers(0, 3, rows)], 0.1),
                pa.timestamp("us"),
            ),
            "k_cat": cat.dictionary_encode(),
            "x_int": pa.array(_with_nulls(rng, ints, 0.2), pa.int64()),
            "x_float": pa.array(_with_nulls(rng, floats, 0.2), pa.float64()),
            "x_bool": pa.array(_with_nulls(rng, (rng.random(rows) < 0.5).tolist(), 0.2)),
            "x_str": pa.array(_with_nulls(rng, rng.choice(words, rows).tolist(), 0.2)),
            "x_ts": pa.array(
                _with_nulls(
                    rng, [dt.datetime(2024, 5, 1) + dt.timedelta(hours=h) for h in ints], 0.2
                ),
                pa.timestamp("us"),
            ),
            "x_dur": pa.array(
                _with_nulls(rng, [dt.timedelta(seconds=s) for s in ints], 0.2), pa.duration("us")
            ),
            "x_cat": pa.array(
                _with_nulls(rng, rng.choice(words, rows).tolist(), 0.2)
            ).dictionary_encode(),
            "_exceptions": pa.array([[] for _ in range(rows)], pa.map_(pa.string(), pa.string())),
        }
    )
    return table


def split_parts(table: pa.Table, parts: int, rng: np.random.Generator) -> list[pa.Table]:
    cuts = sorted(rng.integers(0, table.num_rows + 1, parts - 1).tolist())
    bounds = [0, *cuts, table.num_rows]
    return [table.slice(a, b - a) for a, b in itertools.pairwise(bounds)]


def via_parquet(table: pa.Table) -> pa.Table:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return pq.read_table(io.BytesIO(sink.getvalue()))


def map_reduce(table: pa.Table, spec: AggregateSpec, parts: int, buckets: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    partials = [partial_aggregate(part, spec, buckets) for part in split_parts(table, parts, rng)]
    assert all(len(p) == buckets for p in partials)
    merged = [merge_partials([via_parquet(p[b]) for p in partials], spec) for b in range(buckets)]
    return pa.concat_tables(merged)


def reference(table: pa.Table, spec: AggregateSpec) -> pa.Table:
    """A plain Arrow group_by over the whole table (category columns decoded; durations as
    int64 microseconds, Arrow having no min/max for them, and back)."""
    decoded = pa.table(
        {
            name: pc.cast(col, pa.string())
            if pa.types.is_dictionary(col.type)
            else col.cast(pa.int64())
            if pa.types.is_duration(col.type)
            else col
            for name, col in zip(table.column_names, table.columns, strict=True)
            if name != "_exceptions"
        }
    )
    aggs: list[tuple[Any, str]] = []
    for agg in spec.aggregations:
        if agg.column == "*":
            aggs.append(([], "count_all"))
        else:
            aggs.append((agg.column, ARROW_OP[agg.op]))
    result = decoded.group_by(spec.group_by, use_threads=False).aggregate(aggs)
    names = list(spec.group_by) + [a.output_name for a in spec.aggregations]
    result = result.select(list(range(len(names)))).rename_columns(names)
    for agg in spec.aggregations:
        if agg.op in (AggOp.MIN, AggOp.MAX) and pa.types.is_duration(table[agg.column].type):
            index = result.column_names.index(agg.output_name)
            duration = result.column(index).cast(table[agg.column].type)
            result = result.set_column(index, agg.output_name, duration)
    return result


def rows_of(table: pa.Table, keys: list[str]) -> list[dict[str, Any]]:
    rows = table.to_pylist()
    return sorted(rows, key=lambda r: tuple((r[k] is None, str(r[k])) for k in keys))


def assert_same(actual: pa.Table, expected: pa.Table, keys: list[str]) -> None:
    assert actual.column_names == expected.column_names
    got, want = rows_of(actual, keys), rows_of(expected, keys)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        for name in actual.column_names:
            if isinstance(w[name], float) and w[name] is not None:
                assert g[name] == pytest.approx(w[name], rel=1e-9, abs=1e-9), name
            else:
                assert g[name] == w[name], name


# --- correctness against independent computations ----------------------------------------


def test_small_table_matches_hand_computed_sql_results():
    table = pa.table(
        {
            "k": ["a", "b", "a", None, "b", None, "a"],
            "x": pa.array([1, None, 3, 4, 5, None, 3], pa.int64()),
        }
    )
    spec = AggregateSpec(
        group_by=["k"],
        aggregations=[
            Aggregation(column="x", op="sum"),
            Aggregation(column="x", op="count"),
            Aggregation(column="*", op="count"),
            Aggregation(column="x", op="mean"),
            Aggregation(column="x", op="min"),
            Aggregation(column="x", op="max"),
            Aggregation(column="x", op="count_distinct"),
        ],
    )
    result = map_reduce(table, spec, parts=3, buckets=4)
    assert rows_of(result, ["k"]) == [
        {"k": "a", "sum_x": 7, "count_x": 3, "count_*": 3, "mean_x": 7 / 3,
         "min_x": 1, "max_x": 3, "count_distinct_x": 2},
        {"k": "b", "sum_x": 5, "count_x": 1, "count_*": 2, "mean_x": 5.0,
         "min_x": 5, "max_x": 5, "count_distinct_x": 1},
        {"k": None, "sum_x": 4, "count_x": 1, "count_*": 2, "mean_x": 4.0,
         "min_x": 4, "max_x": 4, "count_distinct_x": 1},
    ]  # fmt: skip


def test_a_group_whose_values_are_all_null_sums_to_null_and_counts_zero():
    table = pa.table({"k": ["a", "a", "b"], "x": pa.array([None, None, 2.5], pa.float64())})
    spec = AggregateSpec(
        group_by=["k"],
        aggregations=[
            Aggregation(column="x", op="sum"),
            Aggregation(column="x", op="count"),
            Aggregation(column="x", op="mean"),
            Aggregation(column="x", op="max"),
            Aggregation(column="x", op="count_distinct"),
        ],
    )
    result = map_reduce(table, spec, parts=2, buckets=3)
    assert rows_of(result, ["k"])[0] == {
        "k": "a", "sum_x": None, "count_x": 0, "mean_x": None, "max_x": None,
        "count_distinct_x": 0,
    }  # fmt: skip


@pytest.mark.parametrize("buckets", [1, 7])
@pytest.mark.parametrize(
    "group_by", [["k_int"], ["k_str", "k_ts"], ["k_cat", "k_int", "k_str"], []]
)
def test_random_tables_split_into_parts_match_one_group_by(group_by, buckets):
    for seed in range(3):
        table = random_table(seed)
        spec = AggregateSpec(group_by=group_by, aggregations=ALL_OPS)
        actual = map_reduce(table, spec, parts=1 + seed * 2, buckets=buckets, seed=seed)
        assert_same(actual, reference(table, spec), group_by)


def test_a_table_with_many_groups_matches_one_group_by():
    rng = np.random.default_rng(5)
    n = 50_000
    table = pa.table(
        {
            "k_str": pa.array(rng.integers(0, 3000, n).astype(str)),
            "k_int": pa.array(rng.integers(0, 7, n)),
            "x_float": pa.array(rng.random(n)),
            "x_int": pa.array(rng.integers(0, 100, n)),
        }
    )
    spec = AggregateSpec(
        group_by=["k_str", "k_int"],
        aggregations=[
            Aggregation(column="x_float", op="mean"),
            Aggregation(column="x_int", op="count_distinct"),
            Aggregation(column="x_int", op="sum"),
        ],
    )
    actual = map_reduce(table, spec, parts=5, buckets=7)
    assert actual.num_rows == reference(table, spec).num_rows > 15_000
    assert_same(actual, reference(table, spec), spec.group_by)


def test_partials_carry_the_high_bits_of_the_key_hash_that_chose_their_bucket():
    table = pa.table({"k": [f"song {i % 50}" for i in range(400)], "d": list(range(400))})
    spec = AggregateSpec(group_by=["k", "d"], aggregations=[Aggregation(column="*", op="count")])
    for bucket, partial in enumerate(partial_aggregate(table, spec, 7)):
        hashed = key_hash([partial.column("k"), partial.column("d")])
        carried = partial.column(aggregate.KEY_HASH).to_numpy().tolist()
        assert carried == (hashed >> np.uint64(32)).astype(np.uint32).tolist()
        assert set(hash_buckets(hashed, 7).tolist()) <= {bucket}


@pytest.mark.parametrize("dtype", [np.uint16, np.uint32])
def test_argsort_hashes_sorts_hashes_keeping_ties_in_row_order(dtype: type) -> None:
    hashed = np.random.default_rng(5).integers(0, np.iinfo(dtype).max, 100_000, dtype=dtype)
    hashed[::7] = hashed[3]  # ties
    order = aggregate_distinct.argsort_hashes(hashed)
    assert np.array_equal(order, np.argsort(hashed, kind="stable"))


def test_argsort_hashes_refuses_hashes_wider_than_32_bits() -> None:
    with pytest.raises(ValueError, match="at most 32 bits"):
        aggregate_distinct.argsort_hashes(np.arange(3, dtype=np.uint64))


def test_hash_order_by_a_hash_shared_by_different_keys_still_groups_equal_keys():
    keys = pa.table({"k": ["b", "a", "c", "a", "b", "d", "a"]})
    everyone_alike = np.zeros(7, dtype=np.uint32)
    order, starts = aggregate_distinct.hash_order(keys, everyone_alike)
    groups = np.split(keys.column("k").take(pa.array(order)).to_pylist(), starts[1:])
    assert sorted(map(list, groups)) == [["a", "a", "a"], ["b", "b"], ["c"], ["d"]]


def test_hash_order_puts_equal_keys_together_and_null_keys_in_one_group():
    keys = pa.table({"k": pa.array([3, None, 1, 3, 1, None, 2], pa.int64())})
    order, starts = aggregate_distinct.hash_order(keys)
    groups = np.split(keys.column("k").take(pa.array(order)).to_pylist(), starts[1:])
    assert sorted((g[0] is None, g[0], len(g)) for g in groups) == [
        (False, 1, 2),
        (False, 2, 1),
        (False, 3, 2),
        (True, None, 2),
    ]


def test_hash_order_tells_apart_texts_that_share_a_hash():
    # The text hash reads 8-byte words at the start, a third in, two thirds in and the
    # end: these two texts differ only at byte 8, which none of them holds.
    a = "0123456789" * 4
    b = a[:8] + "X" + a[9:]
    keys = pa.table({"k": [a, b, a, b, a]})
    assert len(set(key_hash(keys.columns).tolist())) == 1
    order, starts = aggregate_distinct.hash_order(keys)
    groups = np.split(keys.column("k").take(pa.array(order)).to_pylist(), starts[1:])
    assert sorted(map(list, groups)) == [[a, a, a], [b, b]]


# --- filters ------------------------------------------------------------------------------


def _py_filter(column: str, op: str, value: Any):
    def keep(row: dict[str, Any]) -> bool:
        v = row[column]
        if op == "is_null":
            return v is None
        if op == "not_null":
            return v is not None
        if v is None:
            return False
        return {
            "==": lambda: v == value,
            "!=": lambda: v != value,
            "<": lambda: v < value,
            "<=": lambda: v <= value,
            ">": lambda: v > value,
            ">=": lambda: v >= value,
            "in": lambda: v in value,
            "not_in": lambda: v not in value,
        }[op]()

    return keep


FILTERS = [
    ("x_int", "==", 3),
    ("x_int", "!=", 3),
    ("x_int", "<", 0),
    ("x_int", "<=", 0),
    ("x_int", ">", 10),
    ("x_int", ">=", 10),
    ("x_int", "<", 0.5),
    ("x_int", "in", [1, 2, 3, 2.5]),
    ("x_int", "not_in", [1, 2, 3]),
    ("x_int", "is_null", None),
    ("x_int", "not_null", None),
    ("x_float", ">", 20),
    ("x_str", "==", "cherry, ripe"),
    ("x_str", "in", ["apple", ""]),
    ("x_cat", "==", "elder"),
    ("x_cat", "not_in", ["elder", "apple"]),
    ("x_bool", "==", True),
]


@pytest.mark.parametrize(("column", "op", "value"), FILTERS)
def test_each_filter_keeps_exactly_the_rows_sql_would(column, op, value):
    table = random_table(11)
    keep = _py_filter(column, op, value)
    kept = [i for i, row in enumerate(table.select([column]).to_pylist()) if keep(row)]
    assert 0 < len(kept) < table.num_rows
    spec = AggregateSpec(
        group_by=["k_str"],
        aggregations=[Aggregation(column="*", op="count"), Aggregation(column="x_int", op="sum")],
        filter=[Predicate(column=column, op=op, value=value)],
    )
    actual = map_reduce(table, spec, parts=3, buckets=2)
    expected = reference(table.take(pa.array(kept, pa.int64())), spec)
    assert_same(actual, expected, ["k_str"])


def test_datetime_and_timedelta_filters_take_iso_strings_and_seconds():
    table = random_table(12)
    spec = AggregateSpec(
        group_by=[],
        aggregations=[Aggregation(column="*", op="count")],
        filter=[
            Predicate(column="x_ts", op=">=", value="2024-05-01T10:00:00"),
            Predicate(column="x_dur", op="<", value=20 * 3600),
        ],
    )
    rows = table.select(["x_ts", "x_dur"]).to_pylist()
    expected = sum(
        1
        for r in rows
        if r["x_ts"] is not None
        and r["x_ts"] >= dt.datetime(2024, 5, 1, 10)
        and r["x_dur"] is not None
        and r["x_dur"] < dt.timedelta(hours=20)
    )
    assert map_reduce(table, spec, parts=2, buckets=3).to_pylist() == [{"count_*": expected}]


def test_a_filter_that_keeps_nothing_gives_no_groups():
    table = random_table(1)
    spec = AggregateSpec(
        group_by=["k_str"],
        aggregations=ALL_OPS,
        filter=[Predicate(column="x_int", op=">", value=1000)],
    )
    result = map_reduce(table, spec, parts=2, buckets=3)
    assert result.num_rows == 0
    assert result.column_names == ["k_str", *(a.output_name for a in ALL_OPS)]


def test_without_group_by_there_is_one_row_even_when_nothing_passes_the_filter():
    table = random_table(2)
    spec = AggregateSpec(
        aggregations=[
            Aggregation(column="*", op="count"),
            Aggregation(column="x_int", op="sum"),
            Aggregation(column="x_int", op="count_distinct"),
        ],
        filter=[Predicate(column="x_int", op=">", value=1000)],
    )
    result = map_reduce(table, spec, parts=3, buckets=7)
    assert result.to_pylist() == [{"count_*": 0, "sum_x_int": None, "count_distinct_x_int": 0}]


# --- buckets and partials -----------------------------------------------------------------


def _bucket_of_each_key(partials: list[pa.Table], key: str) -> dict[Any, int]:
    return {v: b for b, p in enumerate(partials) for v in p.column(key).to_pylist()}


def test_the_same_key_lands_in_the_same_bucket_from_different_parts():
    rng = np.random.default_rng(3)
    keys = [f"song {i}" for i in range(400)] + [None]
    spec = AggregateSpec(group_by=["k"], aggregations=[Aggregation(column="*", op="count")])
    first = pa.table({"k": pa.array(keys[:300])})
    second = pa.table({"k": pa.array(rng.permutation(np.array(keys[100:], dtype=object)))})
    second = pa.concat_tables([second.slice(0, 57), second.slice(57)]).slice(1)  # offsets, chunks
    third = pa.table({"k": pa.array(keys[150:]).dictionary_encode()})
    buckets = [
        _bucket_of_each_key(partial_aggregate(t, spec, 7), "k") for t in (first, second, third)
    ]
    common = set(buckets[0]) & set(buckets[1]) & set(buckets[2])
    assert len(common) >= 140
    assert all(buckets[0][k] == buckets[1][k] == buckets[2][k] for k in common)
    assert len(set(buckets[0].values())) == 7


def test_bucket_hashes_do_not_depend_on_the_process():
    code = (
        "import pyarrow as pa, datetime as dt;"
        "from sluice.tasks.aggregate_output import key_buckets;"
        "print(key_buckets([pa.array(['a', None, 'é', 'b,c']), pa.array([1, 2, None, 4]),"
        " pa.array([1.5, -0.0, None, 2.0])], 97).tolist())"
    )
    here = key_buckets(
        [
            pa.array(["a", None, "é", "b,c"]),
            pa.array([1, 2, None, 4]),
            pa.array([1.5, 0.0, None, 2.0]),
        ],
        97,
    ).tolist()
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
    )  # fmt: skip
    assert out.stdout.strip() == str(here)


def test_partials_keep_their_schema_when_empty_and_through_parquet():
    table = random_table(4)
    spec = AggregateSpec(group_by=["k_cat", "k_ts"], aggregations=ALL_OPS)
    full = partial_aggregate(table, spec, 3)
    empty = partial_aggregate(table.slice(0, 0), spec, 3)
    assert [p.num_rows for p in empty] == [0, 0, 0]
    assert all(p.schema == full[0].schema for p in [*full, *empty])
    assert via_parquet(empty[1]).schema == full[0].schema
    merged = merge_partials([via_parquet(e) for e in empty] + [full[1]], spec)
    assert merged.equals(merge_partials([full[1]], spec))


def test_merged_column_types():
    table = random_table(5)
    spec = AggregateSpec(group_by=["k_cat", "k_int"], aggregations=ALL_OPS)
    merged = merge_partials(partial_aggregate(table, spec, 1), spec)
    types = {f.name: str(f.type) for f in merged.schema}
    assert types == {
        "k_cat": "string",
        "k_int": "int32",
        "sum_x_int": "decimal128(38, 0)",  # int64 sums are exact past int64 (issue 18)
        "sum_x_float": "double",
        "sum_x_bool": "int64",
        "count_x_int": "int64",
        "count_*": "int64",
        "mean_x_int": "double",
        "mean_x_float": "double",
        "min_x_int": "int64",
        "max_x_float": "double",
        "min_x_str": "string",
        "max_x_ts": "timestamp[us]",
        "min_x_dur": "duration[us]",
        "max_x_cat": "string",
        "count_distinct_x_int": "int64",
        "count_distinct_x_str": "int64",
        "count_distinct_x_cat": "int64",
        "count_distinct_k_int": "int64",
    }


def test_partial_aggregate_rejects_an_invalid_spec():
    spec = AggregateSpec(aggregations=[Aggregation(column="nope", op="sum")])
    with pytest.raises(ValueError, match=re.escape("aggregations[0].column: no column 'nope'")):
        partial_aggregate(random_table(0), spec, 2)


@pytest.mark.parametrize(
    ("rows", "size", "expected"),
    [(0, 0, 1), (10, 1, 1), (10**6, 48 * 2**20, 1), (10**6, 48 * 2**20 + 1, 2),
     (6 * 10**6, 2**20, 3), (6 * 10**6 + 1, 2**20, 4), (10**9, 10**12, 256), (3, 10**12, 3)],
)  # fmt: skip
def test_bucket_count_is_one_per_48_mib_or_2m_rows_between_1_and_256(rows, size, expected):
    assert bucket_count(rows, size) == expected


@pytest.mark.parametrize(
    ("rows", "size", "workers", "expected"),
    [(6 * 10**6, 2**20, 2, 4), (6 * 10**6, 2**20, 3, 3), (6 * 10**6, 2**20, 0, 3),
     (10, 1, 2, 1), (10**9, 10**12, 3, 256), (3, 10**12, 2, 3)],
)  # fmt: skip
def test_bucket_count_rounds_up_to_a_multiple_of_the_workers_where_it_can(
    rows, size, workers, expected
):
    assert bucket_count(rows, size, workers) == expected


# --- the spec -----------------------------------------------------------------------------


def test_validate_spec_names_every_problem_and_its_field():
    spec = AggregateSpec(
        group_by=["k_str", "nope", "k_str"],
        aggregations=[
            Aggregation(column="x_str", op="sum"),
            Aggregation(column="missing", op="count"),
            Aggregation(column="*", op="sum"),
            Aggregation(column="x_str", op="mean", name="k_str"),
            Aggregation(column="x_int", op="max", name="top"),
            Aggregation(column="x_float", op="min", name="top"),
        ],
        filter=[
            Predicate(column="x_int", op="==", value="3"),
            Predicate(column="x_int", op="in", value=5),
            Predicate(column="x_str", op="not_in", value=["a", 1]),
            Predicate(column="x_ts", op=">", value="yesterday"),
            Predicate(column="x_bool", op="==", value=1),
            Predicate(column="x_int", op="is_null", value=0),
            Predicate(column="x_float", op="<", value=None),
            Predicate(column="ghost", op="not_null"),
        ],
    )
    assert validate_spec(spec, SCHEMA) == [
        "group_by[1]: no column 'nope'",
        "group_by[2]: 'k_str' is already group_by[0]",
        "aggregations[0].op: sum needs a bool, int or float column; 'x_str' is string",
        "aggregations[1].column: no column 'missing'",
        "aggregations[2].column: '*' is only valid with count, not sum",
        "aggregations[3].op: mean needs a bool, int or float column; 'x_str' is string",
        "aggregations[3].name: duplicate output name 'k_str' (also group_by[0])",
        "aggregations[5].name: duplicate output name 'top' (also aggregations[4])",
        "filter[0].value: '3' cannot be compared with a int64 column",
        "filter[1].value: in needs a list of values",
        "filter[2].value[1]: 1 cannot be compared with a string column",
        "filter[3].value: 'yesterday' cannot be compared with a datetime column",
        "filter[4].value: 1 cannot be compared with a bool column",
        "filter[5].value: is_null takes no value",
        "filter[6].value: null is not a value; use is_null/not_null",
        "filter[7].column: no column 'ghost'",
    ]


def test_validate_spec_accepts_a_valid_spec():
    spec = AggregateSpec(
        group_by=["k_cat"],
        aggregations=ALL_OPS,
        filter=[
            Predicate(column="x_ts", op="<", value="2024-05-02"),
            Predicate(column="x_dur", op=">", value=1.5),
            Predicate(column="x_float", op="in", value=[1, 2.5]),
            Predicate(column="x_cat", op="is_null"),
        ],
    )
    assert validate_spec(spec, SCHEMA) == []


def test_min_and_max_are_not_valid_on_a_column_type_without_order():
    spec = AggregateSpec(aggregations=[Aggregation(column="x_str", op="max")])
    assert validate_spec(spec, {"x_str": ColumnType.STRING}) == []
    spec = AggregateSpec(aggregations=[Aggregation(column="x_cat", op="sum")])
    assert validate_spec(spec, {"x_cat": ColumnType.CATEGORY}) == [
        "aggregations[0].op: sum needs a bool, int or float column; 'x_cat' is category"
    ]


def test_a_spec_needs_at_least_one_aggregation():
    with pytest.raises(ValidationError):
        AggregateSpec(group_by=["a"], aggregations=[])


def test_output_names_default_to_op_and_column():
    assert Aggregation(column="plays", op="sum").output_name == "sum_plays"
    assert Aggregation(column="*", op="count").output_name == "count_*"
    assert Aggregation(column="plays", op="mean", name="avg").output_name == "avg"


def test_needed_columns_lists_each_input_once_in_first_use_order():
    spec = AggregateSpec(
        group_by=["b", "a"],
        aggregations=[Aggregation(column="*", op="count"), Aggregation(column="a", op="max"),
                      Aggregation(column="c", op="sum")],
        filter=[Predicate(column="d", op="not_null"), Predicate(column="b", op="==", value=1)],
    )  # fmt: skip
    assert needed_columns(spec) == ["b", "a", "c", "d"]


# --- output files -------------------------------------------------------------------------


def _csv_rows(files: list[tuple[bytes, int]]) -> pa.Table:
    tables = [pa_csv.read_csv(io.BytesIO(data)) for data, _ in files]
    return pa.concat_tables(tables)


def _out_table(rows: int) -> pa.Table:
    rng = np.random.default_rng(8)
    words = np.array(["short", "a, longer title", 'with "quotes"', "x" * 40])
    return pa.table(
        {
            "Song": pa.array(words[rng.integers(0, 4, rows)]),
            "n": pa.array(np.arange(rows)),
            "v": pa.array(rng.random(rows)),
        }
    )


@pytest.mark.parametrize("limit", [200, 3_000, 50_000])
def test_csv_outputs_stay_under_the_limit_with_a_header_each_and_all_rows_in_order(limit):
    table = _out_table(5_000)
    files = write_outputs(table, "csv", limit)
    assert all(len(data) <= limit for data, _ in files)
    assert all(data.startswith(b'"Song","n","v"\n') for data, _ in files)
    assert [rows for _, rows in files] == [
        pa_csv.read_csv(io.BytesIO(data)).num_rows for data, _ in files
    ]
    assert _csv_rows(files).equals(table)
    assert len(files) >= math.ceil(len(b"".join(d for d, _ in files)) / limit)


def test_csv_files_are_filled_close_to_the_limit():
    files = write_outputs(_out_table(20_000), "csv", 40_000)
    assert all(len(data) > 40_000 * 0.9 for data, _ in files[:-1])


def test_parquet_outputs_stay_under_the_limit_and_keep_every_row():
    table = _out_table(20_000)
    files = write_outputs(table, "parquet", 40_000)
    assert len(files) > 3
    assert all(len(data) <= 40_000 for data, _ in files)
    parts = [pq.read_table(io.BytesIO(data)) for data, _ in files]
    assert [p.num_rows for p in parts] == [rows for _, rows in files]
    assert pa.concat_tables(parts).equals(table)


def test_a_row_larger_than_the_limit_raises():
    table = pa.table({"s": ["ok", "y" * 500, "ok"]})
    with pytest.raises(ValueError, match=r"row 1 alone makes a 5\d\d-byte csv file"):
        write_outputs(table, "csv", 100)


def test_an_empty_table_gives_one_file_with_only_the_header():
    assert write_outputs(_out_table(0), "csv", 1000) == [(b'"Song","n","v"\n', 0)]


def test_csv_writes_midnight_datetimes_as_dates():
    table = pa.table({"Date": pa.array([dt.datetime(2024, 1, 2)], pa.timestamp("us"))})
    assert write_outputs(table, "csv", 1000) == [(b'"Date"\n2024-01-02\n', 1)]


# --- BMAT ---------------------------------------------------------------------------------


def test_bmat_preset_on_demo_data_sums_plays_per_song_and_date(tmp_path):
    path = tmp_path / "demo.csv"
    write_demo_data(path, 300_000, songs=300, seed=4)
    table = pa_csv.read_csv(
        path, convert_options=pa_csv.ConvertOptions(column_types={"Date": pa.timestamp("us")})
    )
    spec = bmat_preset()
    result = map_reduce(table, spec, parts=4, buckets=5)
    expected: dict[tuple[str, dt.datetime], int] = {}
    for row in table.to_pylist():
        key = (row["Song"], row["Date"])
        expected[key] = expected.get(key, 0) + row["Number of Plays"]
    got = {(r["Song"], r["Date"]): r["Number of Plays"] for r in result.to_pylist()}
    assert got == expected
    files = write_outputs(
        result.sort_by([("Song", "ascending"), ("Date", "ascending")]), "csv", 20_000
    )
    first = pa_csv.read_csv(io.BytesIO(files[0][0]))
    assert first.column_names == ["Song", "Date", "Number of Plays"]
    assert sum(rows for _, rows in files) == len(expected)


@pytest.mark.parametrize("share", [0.0, 2.0])
def test_parts_passed_through_ungrouped_or_grouped_first_match_one_group_by(share, monkeypatch):
    # share 0.0: every part counts as mostly distinct, its rows go to the buckets as they
    # are; 2.0: no part does, each is grouped first.
    monkeypatch.setattr(aggregate_distinct, "MOSTLY_DISTINCT", share)
    for seed in range(2):
        table = random_table(seed)
        spec = AggregateSpec(group_by=["k_str", "k_ts"], aggregations=ALL_OPS)
        actual = map_reduce(table, spec, parts=3, buckets=4, seed=seed)
        assert_same(actual, reference(table, spec), ["k_str", "k_ts"])


SUMS_ONLY = [a for a in ALL_OPS if a.op in (AggOp.SUM, AggOp.COUNT, AggOp.MEAN)]


@pytest.mark.parametrize("group_by", [["k_int"], ["k_str", "k_ts"], ["k_cat", "k_int", "k_str"]])
def test_buckets_of_sums_alone_merged_in_hash_order_match_one_group_by(group_by, monkeypatch):
    monkeypatch.setattr(
        aggregate_distinct, "MOSTLY_DISTINCT", 0.0
    )  # every bucket merged in hash order
    for seed in range(3):
        table = random_table(seed)
        spec = AggregateSpec(group_by=group_by, aggregations=SUMS_ONLY)
        actual = map_reduce(table, spec, parts=3, buckets=4, seed=seed)
        assert_same(actual, reference(table, spec), group_by)


def test_a_group_whose_values_are_all_null_sums_to_null_when_merged_in_hash_order(
    monkeypatch,
):
    monkeypatch.setattr(aggregate_distinct, "MOSTLY_DISTINCT", 0.0)
    spec = AggregateSpec(group_by=["k"], aggregations=[Aggregation(column="x", op=AggOp.SUM)])
    table = pa.table({"k": ["b", "a", "b", None, None], "x": pa.array([None, 1, None, 2, 3])})
    (merged,) = [merge_partials([p], spec) for p in partial_aggregate(table, spec, 1)]
    assert merged.sort_by([("k", "ascending")]).to_pylist() == [
        {"k": "a", "sum_x": 1},
        {"k": "b", "sum_x": None},
        {"k": None, "sum_x": 5},
    ]


def test_a_bucket_of_repeated_keys_is_merged_by_the_hash_group_by(monkeypatch):
    calls = []
    in_hash_order = aggregate.sums_in_hash_order
    monkeypatch.setattr(
        aggregate, "sums_in_hash_order", lambda *a: calls.append(in_hash_order(*a)) or calls[-1]
    )
    spec = AggregateSpec(group_by=["k"], aggregations=[Aggregation(column="x", op=AggOp.SUM)])
    # Each part holds every key once; the bucket holds each key three times, one per part.
    part = pa.table({"k": [f"k{i:04d}" for i in range(2000)], "x": list(range(2000))})
    merged = merge_partials(partial_aggregate(part, spec, 1) * 3, spec)
    assert calls == [None]  # 2,000 keys in 6,000 rows: the hash group-by
    merged = merged.sort_by([("k", "ascending")])
    assert merged.column("k").to_pylist() == [f"k{i:04d}" for i in range(2000)]
    assert merged.column("sum_x").to_pylist() == [3 * i for i in range(2000)]


def repeated_keys_bucket(keys: int, copies: int) -> tuple[list[pa.Table], AggregateSpec]:
    spec = AggregateSpec(group_by=["k"], aggregations=[Aggregation(column="x", op=AggOp.SUM)])
    part = pa.table({"k": [f"k{i:06d}" for i in range(keys)], "x": list(range(keys))})
    return partial_aggregate(part, spec, 1) * copies, spec


def test_a_bucket_whose_keys_repeat_is_judged_without_sorting_all_its_hashes(monkeypatch):
    sorted_lengths = []
    sort = aggregate_distinct._sorted_by_hash
    monkeypatch.setattr(
        aggregate_distinct, "_sorted_by_hash", lambda h: sorted_lengths.append(len(h)) or sort(h)
    )
    # 200,000 keys twice each: a sixteenth of the hash space holds ~12,500 keys, 25,000 rows.
    partials, spec = repeated_keys_bucket(200_000, 2)
    merged = merge_partials(partials, spec)
    assert sorted_lengths == []
    assert merged.num_rows == 200_000
    assert pc.sum(merged.column("sum_x")).as_py() == 2 * sum(range(200_000))


def test_a_bucket_of_distinct_keys_passes_the_sampled_judgement_and_sorts_few_of_them(
    monkeypatch,
):
    sorted_lengths = []
    sort = aggregate_distinct._sorted_by_hash
    monkeypatch.setattr(
        aggregate_distinct, "_sorted_by_hash", lambda h: sorted_lengths.append(len(h)) or sort(h)
    )
    partials, spec = repeated_keys_bucket(200_000, 1)
    assert merge_partials(partials, spec).num_rows == 200_000
    # Only the rows in a bin of the hashes with another row (about 1 in 10 here).
    assert len(sorted_lengths) == 1
    assert 0 < sorted_lengths[0] < 200_000 // 4


def test_hash_buckets_scale_the_low_32_bits_into_the_buckets():
    hashed = np.array([0, 2**32 - 1, 2**31, (7 << 32) | 2**31, 2**64 - 1], dtype=np.uint64)
    assert hash_buckets(hashed, 10).tolist() == [0, 9, 5, 5, 9]
    assert hash_buckets(hashed, 1).tolist() == [0, 0, 0, 0, 0]


# --- exact sums, means and empty lists (issue 18, "Numbers right") ----------------------


def _exact_reference(
    keys: list[Any], values: list[int | None]
) -> dict[Any, tuple[int | None, int]]:
    """Per key: the exact sum of its non-null values (Python's integers; None when it has
    none) and how many there are."""
    out: dict[Any, tuple[int | None, int]] = {}
    for key, value in zip(keys, values, strict=True):
        total, count = out.get(key, (None, 0))
        if value is not None:
            total, count = (total or 0) + value, count + 1
        out[key] = (total, count)
    return out


def _int_sum_table(rng: np.random.Generator, rows: int, groups: int, dtype: str) -> pa.Table:
    info = np.iinfo(dtype)
    big = rng.integers(info.max // 2, info.max, rows, endpoint=True)  # near 2**62 for int64
    sign = np.where(rng.random(rows) < 0.2, -1, 1)
    signed = [int(v) * int(s) for v, s in zip(big, sign, strict=True)]
    values = [None if rng.random() < 0.1 else v for v in signed]
    keys = [f"g{k}" for k in rng.integers(0, groups, rows)]
    return pa.table({"k": keys, "x": pa.array(values, dtype)})


@pytest.mark.parametrize("groups", [3, 5_000])  # grouped partials; rows as groups, hash merge
@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8"])
def test_integer_sums_are_exact_and_never_wrap(groups: int, dtype: str) -> None:
    rng = np.random.default_rng(groups)
    table = _int_sum_table(rng, 6_000, groups, dtype)
    spec = AggregateSpec(
        group_by=["k"],
        aggregations=[Aggregation(column="x", op="sum"), Aggregation(column="x", op="mean")],
    )
    expected = _exact_reference(table.column("k").to_pylist(), table.column("x").to_pylist())
    if dtype == "int64" and groups == 3:  # each group's sum passes 2**63 (Arrow's wraps)
        assert all(abs(total or 0) > 2**63 for total, _ in expected.values())
    result = map_reduce(table, spec, parts=4, buckets=3)
    wanted = pa.decimal128(38, 0) if dtype == "int64" else pa.int64()
    assert result.schema.field("sum_x").type == wanted
    got = {r["k"]: (r["sum_x"], r["mean_x"]) for r in result.to_pylist()}
    assert got.keys() == expected.keys()
    for key, (total, count) in expected.items():
        assert got[key][0] == total, key  # Decimal == int compares exactly
        if total is None:
            assert got[key][1] is None
        else:  # the exact mean, rounded to float64 at most twice (sum, then division)
            assert got[key][1] == pytest.approx(float(Fraction(total, count)), rel=2**-51)


def test_an_int64_sum_that_returns_into_range_is_exact() -> None:
    values = [2**63 - 1, 2**63 - 1, -(2**63), -(2**63), 5, None]
    table = pa.table({"x": pa.array(values, pa.int64())})
    spec = AggregateSpec(
        aggregations=[Aggregation(column="x", op="sum"), Aggregation(column="x", op="mean")]
    )
    for parts in (1, 2, 5):
        [row] = map_reduce(table, spec, parts=parts, buckets=1).to_pylist()
        assert row == {"sum_x": 3, "mean_x": 3 / 5}


def test_boolean_sums_count_the_trues_as_int64() -> None:
    table = pa.table({"k": ["a", "a", "b", "b"], "x": [True, None, False, True]})
    spec = AggregateSpec(group_by=["k"], aggregations=[Aggregation(column="x", op="sum")])
    result = map_reduce(table, spec, parts=2, buckets=2)
    assert result.schema.field("sum_x").type == pa.int64()
    assert rows_of(result, ["k"]) == [{"k": "a", "sum_x": 1}, {"k": "b", "sum_x": 1}]


def test_a_float32_column_sums_in_float64() -> None:
    values = np.full(100_000, 0.1, dtype=np.float32)
    table = pa.table({"x": pa.array(values, pa.float32())})
    spec = AggregateSpec(
        aggregations=[Aggregation(column="x", op="sum"), Aggregation(column="x", op="mean")]
    )
    [row] = map_reduce(table, spec, parts=3, buckets=1).to_pylist()
    exact = Fraction(float(np.float32(0.1))) * len(values)  # each value's float32, exactly
    assert row["sum_x"] == pytest.approx(float(exact), rel=1e-12)
    assert row["mean_x"] == pytest.approx(float(np.float32(0.1)), rel=1e-12)
    float32_sum = float(np.cumsum(values, dtype=np.float32)[-1])  # adding in float32
    assert abs(float32_sum - float(exact)) > 1e-4 * float(exact)  # far off: not that


@pytest.mark.parametrize(
    ("op", "value", "kept"),
    [
        ("not_in", [], [0, 1, 2, 3]),  # NOT IN (): true for every row, nulls too
        ("in", [], []),  # IN (): false for every row
        ("not_in", [1, 2], [2]),  # NULL NOT IN (1, 2) is NULL: the null row is dropped
        ("not_in", [2.5], [0, 2, 3]),  # an int never equals 2.5; the null row is dropped
        ("in", [1, None], [0]),
    ],
)
def test_in_and_not_in_follow_sql_with_nulls_and_empty_lists(
    op: str, value: list[Any], kept: list[int]
) -> None:
    table = pa.table({"x": pa.array([1, None, 3, 2], pa.int64()), "row": [0, 1, 2, 3]})
    spec = AggregateSpec(
        group_by=["row"],
        aggregations=[Aggregation(column="*", op="count")],
        filter=[Predicate(column="x", op=op, value=value)],
    )
    if None in value:  # a null in the list is refused before any row is read
        assert validate_spec(spec, {"x": ColumnType.INT64, "row": ColumnType.INT64})
        return
    result = map_reduce(table, spec, parts=2, buckets=2)
    assert sorted(result.column("row").to_pylist()) == kept


def test_partials_whose_parts_typed_a_summed_column_apart_are_refused() -> None:
    spec = AggregateSpec.model_validate(
        {"group_by": ["k"], "aggregations": [{"column": "v", "op": "sum"}]}
    )
    as_float = aggregate.partial_aggregate(
        pa.table({"k": ["a"], "v": pa.array([2.5], pa.float32())}), spec, 1
    )[0]
    as_int = aggregate.partial_aggregate(
        pa.table({"k": ["b"], "v": pa.array([4], pa.int8())}), spec, 1
    )[0]
    with pytest.raises(ValueError, match="the parts disagree on the type of column 'v'"):
        aggregate.merge_partials([as_float, as_int], spec)
