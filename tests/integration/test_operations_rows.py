"""Sample, stack, sort and join on the real state machine, each checked against pyarrow or
DuckDB computing the same over the same rows, on datasets of several parts."""

from __future__ import annotations

import io
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pcsv
import pytest
from sluice.operations.library import join, sort

from tests.integration.sessions_support import (
    REGIONS,
    ref,
    reference,
    rows_of,
    run,
    run_to_end,
    sales_session,
)
from tests.integration.uploader import Uploader
from tests.support import call_api


@pytest.fixture(scope="module")
def sales(local: Any) -> tuple[Uploader, dict[str, Any], bytes, str]:
    return sales_session(local)


def test_sample_of_n_rows_draws_n_distinct_rows_in_their_order(sales: Any) -> None:
    uploader, dataset, body, session_id = sales
    request = {"dataset": ref(dataset["id"]), "n": 37, "seed": 5}
    done = run_to_end(uploader, session_id, "sample", request)
    got = rows_of(uploader, done["output"]["datasets"][0])
    by_id = {r["id"]: r for r in reference(body).to_pylist()}
    ids = [r["id"] for r in got]
    assert len(ids) == 37 and ids == sorted(set(ids))
    assert [r["amount"] for r in got] == [by_id[i]["amount"] for i in ids]
    again = run_to_end(uploader, session_id, "sample", {**request, "seed": 6})
    assert [r["id"] for r in rows_of(uploader, again["output"]["datasets"][0])] != ids


def test_sample_of_a_fraction_keeps_rows_of_every_part(sales: Any) -> None:
    uploader, dataset, _, session_id = sales
    done = run_to_end(
        uploader, session_id, "sample", {"dataset": ref(dataset["id"]), "fraction": 0.5}
    )
    ids = [r["id"] for r in rows_of(uploader, done["output"]["datasets"][0])]
    assert ids == sorted(set(ids)) and 140 < len(ids) < 260
    assert min(ids) < 40 and max(ids) > 360  # drawn from the first parts and the last


def test_sample_takes_n_or_a_fraction_not_both(sales: Any) -> None:
    uploader, dataset, _, session_id = sales
    status, body = run(
        uploader, session_id, "sample", {"dataset": ref(dataset["id"]), "n": 3, "fraction": 0.1}
    )
    assert (status, body["error"]["message"]) == (
        422,
        "input_data.n: give either n or fraction (the other 0)",
    )


def test_a_number_no_record_holds_is_422_and_stores_no_operation(sales: Any) -> None:
    uploader, dataset, _, session_id = sales
    status, body = run(
        uploader, session_id, "sample", {"dataset": ref(dataset["id"]), "fraction": 1e-300}
    )
    assert status == 422, body
    assert "1E-300 is no number a record can hold" in body["error"]["message"]
    status, listed = call_api("GET", f"/sessions/{session_id}/operations", owner=uploader.owner)
    assert status == 200, listed
    assert all(op["input_data"].get("fraction") != 1e-300 for op in listed["items"])


def other_csv(rows: int = 150) -> bytes:
    """Rows whose columns overlap sales' with wider or other types: id past int16, whole
    amounts, fractional quantities, no day or note, an extra column."""
    lines = ["id,region,amount,qty,extra"]
    for i in range(rows):
        amount = i % 90 if i % 10 else 1000 + i  # int16
        lines.append(f"{100_000 + i},{REGIONS[i % 3]},{amount},{i % 11 / 2},x{i % 5}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def other(sales: Any) -> dict[str, Any]:
    dataset = sales[0].ingest(other_csv())
    assert dataset["status"] == "ready", dataset["error"]
    assert dataset["chunk_count"] > 2
    return dataset  # type: ignore[no-any-return]


def test_stack_unifies_types_by_preference_and_fills_missing_columns(
    sales: Any, other: dict[str, Any]
) -> None:
    uploader, dataset, body, session_id = sales
    done = run_to_end(
        uploader, session_id, "stack", {"datasets": [ref(dataset["id"]), ref(other["id"])]}
    )
    output = uploader.dataset(done["output"]["datasets"][0])
    assert [(c["name"], c["effective_type"]) for c in output["columns"]] == [
        ("id", "int32"),
        ("region", "category"),
        ("amount", "float32"),
        ("qty", "float32"),
        ("day", "datetime"),
        ("note", "string"),
        ("big", "int64"),
        ("label", "string"),
        ("price", "float64"),
        ("extra", "category"),
    ]
    first = pa.Table.from_pylist(
        [{**r, "day": r["day"].isoformat()} for r in reference(body).to_pylist()]
    )
    second = pcsv.read_csv(io.BytesIO(other_csv()))
    expected = pa.concat_tables([first, second], promote_options="permissive").to_pylist()
    got = rows_of(uploader, output["id"])
    assert len(got) == 550
    for name in ("id", "region", "amount", "qty", "day", "note", "big", "label", "price", "extra"):
        assert [r[name] for r in got] == [e[name] for e in expected], name


def test_stack_refuses_a_column_of_another_kind_naming_it(sales: Any) -> None:
    uploader, dataset, _, session_id = sales
    numbered = uploader.ingest(b"id,day\n1,5\n2,6\n")
    status, body = run(
        uploader, session_id, "stack", {"datasets": [ref(dataset["id"]), ref(numbered["id"])]}
    )
    assert (status, body["error"]["details"]) == (
        422,
        [
            {
                "field": "input_data.datasets[1]",
                "problem": "column 'day' is int8 there and datetime before: they do not stack",
            }
        ],
    )


def test_sort_over_several_buckets_matches_duckdb(
    sales: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploader, dataset, body, session_id = sales
    monkeypatch.setattr(sort, "bucket_count", lambda *args: 4)
    done = run_to_end(
        uploader,
        session_id,
        "sort",
        {
            "dataset": ref(dataset["id"]),
            "by": ["qty", "region", "amount"],
            "descending": ["qty", "amount"],
            "nulls": "first",
        },
    )
    assert done["buckets"] == 4
    output = uploader.dataset(done["output"]["datasets"][0])
    sales_table = reference(body)  # noqa: F841 (read by DuckDB by name)
    expected = duckdb.sql(
        "SELECT id FROM sales_table ORDER BY qty DESC NULLS FIRST, region NULLS FIRST,"
        " amount DESC NULLS FIRST, id"  # id: the rows' order, for equal keys (a stable sort)
    ).fetchall()
    assert [r["id"] for r in rows_of(uploader, output["id"])] == [e[0] for e in expected]


def test_sort_by_unicode_texts_and_int64s_near_its_edges_matches_duckdb(
    sales: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploader, dataset, body, session_id = sales
    monkeypatch.setattr(sort, "bucket_count", lambda *args: 3)
    request = {"dataset": ref(dataset["id"]), "by": ["label", "big"], "descending": ["big"]}
    done = run_to_end(uploader, session_id, "sort", request)
    sales_table = reference(body)  # noqa: F841 (read by DuckDB by name)
    expected = duckdb.sql(
        "SELECT id, label, big FROM sales_table ORDER BY label, big DESC NULLS LAST, id"
    ).fetchall()
    got = rows_of(uploader, done["output"]["datasets"][0])
    assert [(r["id"], r["label"], r["big"]) for r in got] == expected


@pytest.mark.parametrize("key", ["big", "label"])
def test_a_join_on_int64s_near_its_edges_or_unicode_texts_matches_duckdb(
    sales: Any, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    uploader, dataset, body, session_id = sales
    monkeypatch.setattr(join, "bucket_count", lambda *args: 3)
    monkeypatch.setattr(join, "BROADCAST_MAX_BYTES", 0)
    request = {"left": ref(dataset["id"]), "right": ref(dataset["id"]), "on": [key]}
    done = run_to_end(uploader, session_id, "join", request)
    sales_table = reference(body)  # noqa: F841 (read by DuckDB by name)
    expected = duckdb.sql(
        f"SELECT s.id, o.id FROM sales_table s JOIN sales_table o ON s.{key} = o.{key}"
        " ORDER BY 1, 2"
    ).fetchall()
    got = sorted((r["id"], r["id_right"]) for r in rows_of(uploader, done["output"]["datasets"][0]))
    assert got == expected
    # big: each non-null row meets itself only (nulls match nothing); label: 3 or 4 each.
    assert len(got) == {"big": 364, "label": 1360}[key]


def test_sort_puts_nulls_last_by_default(sales: Any) -> None:
    uploader, dataset, body, session_id = sales
    done = run_to_end(uploader, session_id, "sort", {"dataset": ref(dataset["id"]), "by": ["qty"]})
    sales_table = reference(body)  # noqa: F841 (read by DuckDB by name)
    expected = duckdb.sql("SELECT id, qty FROM sales_table ORDER BY qty NULLS LAST, id").fetchall()
    got = rows_of(uploader, done["output"]["datasets"][0])
    assert [(r["id"], r["qty"]) for r in got] == expected


JOINS = [("inner", "JOIN"), ("left", "LEFT JOIN"), ("right", "RIGHT JOIN"), ("outer", "FULL JOIN")]


def _join_matches_duckdb(
    sales: Any, other: dict[str, Any], how: str, sql: str, suffix: str = "_right"
) -> dict[str, Any]:
    """Join sales with other on qty = amount (int8 with nulls, against int16), check the
    output's columns and rows against DuckDB's; the finished operation."""
    uploader, dataset, body, session_id = sales
    request = {
        "left": ref(dataset["id"]),
        "right": ref(other["id"]),
        "on": ["qty"],
        "right_on": ["amount"],
        "how": how,
        "suffix": suffix,
    }
    done = run_to_end(uploader, session_id, "join", request)
    output = uploader.dataset(done["output"]["datasets"][0])
    assert [(c["name"], c["effective_type"]) for c in output["columns"]] == [
        ("id", "int16"),
        ("region", "category"),
        ("amount", "float32"),
        ("qty", "int16"),
        ("day", "datetime"),
        ("note", "string"),
        ("big", "int64"),
        ("label", "string"),
        ("price", "float64"),
        (f"id{suffix}", "int32"),
        (f"region{suffix}", "category"),
        (f"qty{suffix}", "float32"),
        ("extra", "category"),
    ]
    sales_table = reference(body)  # noqa: F841 (read by DuckDB by name)
    other_table = pcsv.read_csv(io.BytesIO(other_csv()))  # noqa: F841
    expected = duckdb.sql(
        f"SELECT s.id, coalesce(s.qty, o.amount), o.id, o.extra FROM sales_table s {sql}"
        " other_table o ON s.qty = o.amount"
    ).fetchall()
    rows = rows_of(uploader, output["id"])
    got = [(r["id"], r["qty"], r[f"id{suffix}"], r["extra"]) for r in rows]

    def key(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple((v is None, v) for v in row)

    assert sorted(got, key=key) == sorted(expected, key=key)
    assert len(got) > 100
    return done


@pytest.mark.parametrize(("how", "sql"), JOINS)
def test_join_over_several_buckets_matches_duckdb(
    sales: Any, other: dict[str, Any], monkeypatch: pytest.MonkeyPatch, how: str, sql: str
) -> None:
    monkeypatch.setattr(join, "bucket_count", lambda *args: 3)
    monkeypatch.setattr(join, "BROADCAST_MAX_BYTES", 0)
    done = _join_matches_duckdb(sales, other, how, sql)
    assert done["buckets"] == 3


@pytest.mark.parametrize(("how", "sql"), JOINS[:3])
def test_join_with_a_small_side_broadcasts_it_and_matches_duckdb(
    sales: Any, other: dict[str, Any], how: str, sql: str
) -> None:
    # inner and left broadcast the right side (the smaller), right the left: no shuffle.
    # (Another suffix than the shuffled joins': not their cached answers.)
    done = _join_matches_duckdb(sales, other, how, sql, suffix="_other")
    assert (done["buckets"], done["parts"]) == (0, sales[1]["chunk_count"] + other["chunk_count"])


def test_a_broadcast_join_matching_nothing_is_an_empty_dataset_with_every_column(
    sales: Any, other: dict[str, Any]
) -> None:
    # sales' ids are int16s, other's past 100,000: no part of either side matches, so
    # only the large side's first part is written, carrying the columns.
    uploader, dataset, _, session_id = sales
    request = {"left": ref(dataset["id"]), "right": ref(other["id"]), "on": ["id"]}
    done = run_to_end(uploader, session_id, "join", request)
    output = uploader.dataset(done["output"]["datasets"][0])
    assert (done["status"], done["buckets"], output["row_count"]) == ("COMPLETED", 0, 0)
    assert [c["name"] for c in output["columns"]] == [
        *(c["name"] for c in dataset["columns"]),
        *("region_right", "amount_right", "qty_right", "extra"),
    ]
    assert rows_of(uploader, output["id"]) == []


def test_join_refuses_keys_that_do_not_join_and_a_suffix_that_names_two_columns(
    sales: Any, other: dict[str, Any]
) -> None:
    uploader, dataset, _, session_id = sales
    request = {
        "left": ref(dataset["id"]),
        "right": ref(other["id"]),
        "on": ["day", "id"],
        "right_on": ["amount", "id"],
        "suffix": "",
    }
    status, body = run(uploader, session_id, "join", request)
    assert (status, body["error"]["details"]) == (
        422,
        [
            {
                "field": "input_data.on[0]",
                "problem": "'day' is datetime and 'amount' on the right is int16: they do not join",
            },
            {"field": "input_data.suffix", "problem": "'qty' would name two columns"},
            {"field": "input_data.suffix", "problem": "'region' would name two columns"},
        ],
    )
