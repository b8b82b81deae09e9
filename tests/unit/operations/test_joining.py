"""A bucket's join: keys in one type, the output's columns and names."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sluice.inference.types import ColumnType as T
from sluice.operations.joining import (
    broadcast_side,
    groups_to_read,
    join_bucket,
    key_types,
    sorted_keys,
)


def test_keys_of_two_widths_join_in_the_wider_and_other_kinds_do_not() -> None:
    left, right = {"k": T.INT8, "t": T.DATETIME}, {"k": T.INT32, "t": T.STRING}
    assert key_types(left, right, ["k"], ["k"]) == ([T.INT32], [])
    assert key_types(left, right, ["t"], ["t"])[1] == [
        "on[0]: 't' is datetime and 't' on the right is string: they do not join"
    ]


def test_a_right_join_names_its_keys_as_the_left_does_and_suffixes_clashes() -> None:
    left = pa.table({"k": pa.array([1, 2, None], pa.int8()), "v": ["a", "b", "c"]})
    right = pa.table(
        {"v": ["p", "q", "r"], "key": pa.array([2, 3, None], pa.int32()), "w": [1.0, 2.0, 3.0]}
    )
    out = join_bucket(left, right, ["k"], ["key"], "right", [T.INT32], "_r")
    assert out.column_names == ["k", "v", "v_r", "w"]
    assert sorted(out.to_pylist(), key=lambda r: r["w"]) == [
        {"k": 2, "v": "b", "v_r": "p", "w": 1.0},
        {"k": 3, "v": None, "v_r": "q", "w": 2.0},
        {"k": None, "v": None, "v_r": "r", "w": 3.0},  # a null key matches nothing
    ]


def test_an_inner_join_broadcasts_its_smaller_side_within_the_limit() -> None:
    assert broadcast_side("inner", 500, 90, most_bytes=100) == "right"
    assert broadcast_side("inner", 90, 500, most_bytes=100) == "left"
    assert broadcast_side("inner", 90, 90, most_bytes=100) == "right"
    assert broadcast_side("inner", 101, 500, most_bytes=100) is None


def test_a_left_or_right_join_broadcasts_only_the_side_whose_unmatched_rows_it_drops() -> None:
    assert broadcast_side("left", 10, 90, most_bytes=100) == "right"
    assert broadcast_side("left", 10, 101, most_bytes=100) is None
    assert broadcast_side("right", 90, 10, most_bytes=100) == "left"
    assert broadcast_side("right", 101, 10, most_bytes=100) is None


def test_an_outer_join_never_broadcasts() -> None:
    assert broadcast_side("outer", 1, 1, most_bytes=100) is None


@pytest.mark.parametrize(
    ("how", "sql"),
    [("inner", "JOIN"), ("left", "LEFT JOIN"), ("right", "RIGHT JOIN"), ("outer", "FULL JOIN")],
)
def test_a_join_on_two_keys_with_nulls_and_repeats_is_duckdbs(how: str, sql: str) -> None:
    rng = np.random.default_rng(7)
    n = 3000

    def keys(count: int) -> tuple[pa.Array, pa.Array]:
        k = rng.integers(0, 40, count)
        region = np.array(["North", "South", "Zürich"])[rng.integers(0, 3, count)]
        return (
            pa.array(k, mask=rng.random(count) < 0.05, type=pa.int16()),
            pa.array(region, mask=rng.random(count) < 0.05).dictionary_encode(),
        )

    k, region = keys(n)
    left = pa.table({"k": k, "region": region, "v": pa.array(rng.normal(size=n))})
    k, region = keys(n // 2)
    right = pa.table(
        {"kk": pa.array(k, pa.int32()), "r": region, "v": [f"é{i}" for i in range(n // 2)]}
    )
    kinds = [T.INT32, T.CATEGORY]
    out = join_bucket(left, right, ["k", "region"], ["kk", "r"], how, kinds, "_r")
    assert out.column_names == ["k", "region", "v", "v_r"]
    assert out.schema.field("region").type == pa.dictionary(pa.int32(), pa.string())
    left_table, right_table = left, right  # noqa: F841 (read by DuckDB by name)
    expected = duckdb.sql(
        "SELECT coalesce(l.k, o.kk), coalesce(l.region::VARCHAR, o.r::VARCHAR), l.v, o.v"
        f" FROM left_table l {sql} right_table o ON l.k = o.kk AND l.region = o.r"
    ).fetchall()
    assert_same_rows(out, expected)
    assert out.num_rows > n


@pytest.mark.parametrize(
    ("kind", "right_sorted"), [(T.INT32, False), (T.DATETIME, False), (T.INT64, True)]
)
@pytest.mark.parametrize(
    ("how", "sql"),
    [("inner", "JOIN"), ("left", "LEFT JOIN"), ("right", "RIGHT JOIN"), ("outer", "FULL JOIN")],
)
def test_a_join_on_one_integer_key_with_nulls_and_repeats_is_duckdbs(
    how: str, sql: str, kind: T, right_sorted: bool
) -> None:
    """One integer-like key takes the sorted search, not Arrow's hash join (a right side
    sorted already and without nulls is not sorted again)."""
    rng = np.random.default_rng(11)
    n = 2000
    arrow = {T.INT32: pa.int32(), T.INT64: pa.int64(), T.DATETIME: pa.timestamp("us")}[kind]

    def keys(count: int, ordered: bool = False) -> pa.Array:
        drawn = rng.integers(-30, 30, count)
        if ordered:
            return pa.array(np.sort(drawn)).cast(arrow)
        return pa.array(drawn, mask=rng.random(count) < 0.05).cast(arrow)

    left = pa.table({"k": keys(n), "v": pa.array(rng.normal(size=n))})
    right = pa.table({"kk": keys(n // 3, right_sorted), "v": [f"é{i}" for i in range(n // 3)]})
    out = join_bucket(left, right, ["k"], ["kk"], how, [kind], "_r")
    assert out.column_names == ["k", "v", "v_r"]
    left_table, right_table = left, right  # noqa: F841 (read by DuckDB by name)
    expected = duckdb.sql(
        f"SELECT coalesce(l.k, o.kk), l.v, o.v FROM left_table l {sql} right_table o ON l.k = o.kk"
    ).fetchall()
    assert_same_rows(out, expected)
    assert out.num_rows > n


def assert_same_rows(out: pa.Table, expected: list[tuple[object, ...]]) -> None:
    """``out`` holds ``expected``'s rows, in any order (nulls sorted apart from values)."""

    def order(row: tuple[object, ...]) -> tuple[object, ...]:
        return tuple((v is None, v) for v in row)

    got = [tuple(r.values()) for r in out.to_pylist()]
    assert sorted(got, key=order) == sorted(expected, key=order)


def _parquet(tmp_path: Path, keys: pa.Array, group_rows: int) -> pq.ParquetFile:
    path = tmp_path / "part.parquet"
    pq.write_table(
        pa.table({"k": keys, "v": np.arange(len(keys))}), path, row_group_size=group_rows
    )
    return pq.ParquetFile(path)


def test_an_inner_joins_part_reads_only_the_row_groups_whose_key_range_holds_a_key(
    tmp_path: Path,
) -> None:
    """Groups [0, 9], [10, 19], [20, 29] and one of null keys only: against keys 15 and 40
    only the second can match; its rows joined are the whole part's inner join."""
    keys = pa.array([*range(30), *([None] * 10)], pa.int16())
    part = _parquet(tmp_path, keys, group_rows=10)
    small = pa.table({"kk": pa.array([40, 15, None], pa.int64()), "w": ["a", "b", "c"]})
    wanted = sorted_keys(small.column("kk"))
    groups = groups_to_read(part.metadata, "k", pa.int64(), wanted)
    assert groups == [1]
    out = join_bucket(part.read_row_groups(groups), small, ["k"], ["kk"], "inner", [T.INT64], "_r")
    whole = part.read()  # noqa: F841 (read by DuckDB by name)
    expected = duckdb.sql("SELECT l.k, l.v, o.w FROM whole l JOIN small o ON l.k = o.kk").fetchall()
    assert_same_rows(out, expected)
    assert expected == [(15, 15, "b")]


def test_a_key_of_another_unit_than_its_comparison_has_its_bounds_cast_as_its_values(
    tmp_path: Path,
) -> None:
    """Milliseconds compared as microseconds: a group's bounds are scaled as the values
    themselves are (25 ms is 25,000 us, in the third group only)."""
    millis = pa.array(np.arange(30), pa.int64()).cast(pa.timestamp("ms"))
    part = _parquet(tmp_path, millis, group_rows=10)
    micros = pa.chunked_array([pa.array([25_000], pa.int64()).cast(pa.timestamp("us"))])
    assert groups_to_read(part.metadata, "k", pa.timestamp("us"), sorted_keys(micros)) == [2]
