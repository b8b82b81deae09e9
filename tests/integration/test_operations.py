"""Operations on the real state machine, each result checked against pyarrow or DuckDB
computing the same thing over the same rows, on datasets of many parts."""

from __future__ import annotations

import math
import statistics
from fractions import Fraction
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import requests
from sluice.operations.library import describe, group_by

from tests.integration.sessions_support import (
    ref,
    reference,
    rows_of,
    run_to_end,
    sales_session,
)
from tests.integration.uploader import Uploader
from tests.support import call_api, wait_for


@pytest.fixture(scope="module")
def sales(local: Any) -> tuple[Uploader, dict[str, Any], bytes, str]:
    return sales_session(local)


def iso(value: Any) -> str:
    return value.isoformat()


def test_select_columns_writes_a_ready_dataset_of_those_columns(sales: Any) -> None:
    uploader, dataset, body, session_id = sales
    done = run_to_end(
        uploader,
        session_id,
        "select_columns",
        {"dataset": ref(dataset["id"]), "columns": ["qty", "id", "big", "label", "price"]},
    )
    (output_id,) = done["output"]["datasets"]
    output = uploader.dataset(output_id)
    assert (output["status"], output["path"], output["row_count"]) == (
        "ready",
        f"sessions/{session_id}",
        400,
    )
    assert [(c["name"], c["effective_type"]) for c in output["columns"]] == [
        ("qty", "int8"),
        ("id", "int16"),
        ("big", "int64"),
        ("label", "string"),
        ("price", "float64"),
    ]
    expected = reference(body).select(["qty", "id", "big", "label", "price"]).to_pylist()
    assert rows_of(uploader, output_id) == expected


def test_filter_rows_keeps_the_rows_passing_every_predicate(sales: Any) -> None:
    uploader, dataset, body, session_id = sales
    predicates = [
        {"column": "amount", "op": ">", "value": 50},
        {"column": "region", "op": "in", "value": ["north", "east"]},
        {"column": "qty", "op": "not_null"},
        {"column": "big", "op": ">", "value": -(2**62)},
    ]
    done = run_to_end(
        uploader, session_id, "filter_rows", {"dataset": ref(dataset["id"]), "filter": predicates}
    )
    table = reference(body)
    mask = pc.and_(
        pc.and_(
            pc.greater(table["amount"], 50), pc.is_in(table["region"], pa.array(["north", "east"]))
        ),
        pc.and_(table["qty"].is_valid(), pc.greater(table["big"], -(2**62))),
    )
    expected = table.filter(mask).to_pylist()
    got = rows_of(uploader, done["output"]["datasets"][0])
    assert [(r["big"], r["label"], r["price"]) for r in got] == [
        (r["big"], r["label"], r["price"]) for r in expected
    ]
    assert [r["id"] for r in got] == [r["id"] for r in expected]
    assert [r["amount"] for r in got] == [r["amount"] for r in expected]
    assert [r["region"] for r in got] == [r["region"] for r in expected]
    assert [r["day"] for r in got] == [iso(r["day"]) for r in expected]


def test_filter_rows_keeps_only_the_columns_chosen_in_their_order(sales: Any) -> None:
    uploader, dataset, body, session_id = sales
    request = {
        "dataset": ref(dataset["id"]),
        "filter": [{"column": "label", "op": "in", "value": ["東京 1", "🎵 song 2", "Zürich 0"]}],
        "columns": ["price", "big", "id"],
    }
    done = run_to_end(uploader, session_id, "filter_rows", request)
    output = uploader.dataset(done["output"]["datasets"][0])
    assert [c["name"] for c in output["columns"]] == ["price", "big", "id"]
    table = reference(body)
    expected = table.filter(
        pc.is_in(table["label"], pa.array(["東京 1", "🎵 song 2", "Zürich 0"]))
    ).select(["price", "big", "id"])
    assert rows_of(uploader, output["id"]) == expected.to_pylist()
    assert expected.num_rows > 3


def test_describe_matches_pyarrow_statistics(sales: Any) -> None:
    uploader, dataset, body, session_id = sales
    done = run_to_end(uploader, session_id, "describe", {"dataset": ref(dataset["id"]), "top": 3})
    data = done["output"]["data"]
    table = reference(body)
    assert data["rows"] == 400
    columns = {c["name"]: c for c in data["columns"]}
    assert list(columns) == [
        "id",
        "region",
        "amount",
        "qty",
        "day",
        "note",
        "big",
        "label",
        "price",
    ]
    for name in ("id", "amount", "qty", "price"):
        values = [v for v in table[name].to_pylist() if v is not None]
        line = columns[name]
        assert (line["count"], line["nulls"]) == (len(values), 400 - len(values))
        assert (line["min"], line["max"]) == (min(values), max(values))
        assert line["mean"] == pytest.approx(statistics.fmean(values), rel=1e-12)
        assert line["std"] == pytest.approx(statistics.stdev(values), rel=1e-9)
    counts = pc.value_counts(table["region"]).to_pylist()
    ranked = sorted(counts, key=lambda c: (-c["counts"], c["values"]))[:3]
    assert columns["region"]["top"] == [
        {"value": c["values"], "count": c["counts"]} for c in ranked
    ]
    assert (columns["day"]["min"], columns["day"]["max"]) == (
        "2024-03-01T00:00:00",
        "2024-03-28T00:00:00",
    )
    notes = table["note"].to_pylist()
    assert (columns["note"]["type"], columns["note"]["min"], columns["note"]["max"]) == (
        "string",
        min(notes),
        max(notes),
    )


def test_describe_gives_an_integer_columns_exact_mean_near_int64s_edges(sales: Any) -> None:
    uploader, dataset, body, session_id = sales
    done = run_to_end(
        uploader, session_id, "describe", {"dataset": ref(dataset["id"]), "columns": ["big"]}
    )
    (line,) = done["output"]["data"]["columns"]
    values = [v for v in reference(body)["big"].to_pylist() if v is not None]
    # Summed in float64 the values' roundings (up to 1024 each) leave 41682.77...
    assert (line["min"], line["max"]) == (-(2**63) + 5, 2**63 - 1)
    assert line["mean"] == float(Fraction(sum(values), len(values))) == 41683.21428571428
    sales_table = reference(body)  # noqa: F841 (read by DuckDB by name)
    ((mean, std),) = duckdb.sql("SELECT avg(big), stddev(big) FROM sales_table").fetchall()
    assert line["mean"] == mean
    assert line["std"] == pytest.approx(std, rel=1e-12)


def test_describe_lists_a_text_columns_top_values_as_duckdb_counts_them(
    sales: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploader, dataset, body, session_id = sales
    monkeypatch.setattr(describe, "bucket_count", lambda *args: 3)
    request = {"dataset": ref(dataset["id"]), "columns": ["label", "note"], "top": 6}
    done = run_to_end(uploader, session_id, "describe", request)
    assert done["buckets"] == 3  # the texts' counts, shuffled by value
    columns = {c["name"]: c for c in done["output"]["data"]["columns"]}
    sales_table = reference(body)  # noqa: F841 (read by DuckDB by name)
    for name in ("label", "note"):
        # Ties by value, in code point order ('Zürich 9' before 'e\u0301tude 0', whose
        # accent is a code point of its own): DuckDB's order.
        expected = duckdb.sql(
            f"SELECT {name}, count(*) AS n FROM sales_table WHERE {name} IS NOT NULL"
            f" GROUP BY {name} ORDER BY n DESC, {name} LIMIT 6"
        ).fetchall()
        assert columns[name]["top"] == [{"value": v, "count": n} for v, n in expected], name
    assert columns["label"]["top"][-1] == {"value": "e\u0301tude 0", "count": 4}


def test_group_by_aggregate_matches_duckdb(sales: Any) -> None:
    uploader, dataset, body, session_id = sales
    done = run_to_end(
        uploader,
        session_id,
        "group_by_aggregate",
        {
            "dataset": ref(dataset["id"]),
            "group_by": ["region"],
            "aggregations": [
                {"column": "qty", "op": "sum", "name": "total"},
                {"column": "amount", "op": "mean"},
                {"column": "*", "op": "count", "name": "rows"},
                {"column": "note", "op": "count_distinct"},
            ],
            "filter": [{"column": "amount", "op": "<=", "value": 100}],
        },
    )
    sales_table = reference(body)  # noqa: F841 (read by DuckDB by name)
    expected = duckdb.sql(
        "SELECT region, sum(qty) AS total, avg(amount) AS m, count(*) AS rows,"
        " count(DISTINCT note) AS d FROM sales_table WHERE amount <= 100 GROUP BY region"
        " ORDER BY region"
    ).fetchall()
    got = sorted(rows_of(uploader, done["output"]["datasets"][0]), key=lambda r: r["region"])
    assert [r["region"] for r in got] == [e[0] for e in expected]
    assert [r["total"] for r in got] == [e[1] for e in expected]
    assert [r["mean_amount"] for r in got] == pytest.approx([e[2] for e in expected], rel=1e-12)
    assert [r["rows"] for r in got] == [e[3] for e in expected]
    assert [r["count_distinct_note"] for r in got] == [e[4] for e in expected]


def test_a_sum_past_int64_is_an_exact_decimal_as_pythons_integers(sales: Any) -> None:
    uploader, dataset, body, session_id = sales
    done = run_to_end(
        uploader,
        session_id,
        "group_by_aggregate",
        {
            "dataset": ref(dataset["id"]),
            "group_by": ["region"],
            "aggregations": [
                {"column": "big", "op": "sum", "name": "total"},
                {"column": "big", "op": "mean", "name": "average"},
            ],
        },
    )
    output = uploader.dataset(done["output"]["datasets"][0])
    assert [(c["name"], c["effective_type"]) for c in output["columns"]][1:] == [
        ("total", "decimal"),
        ("average", "float64"),
    ]
    values: dict[str, list[int]] = {}
    for row in reference(body).to_pylist():
        if row["big"] is not None:
            values.setdefault(row["region"], []).append(row["big"])
    got = {r["region"]: (r["total"], r["average"]) for r in rows_of(uploader, output["id"])}
    assert got == {
        region: (sum(vs), float(Fraction(sum(vs), len(vs)))) for region, vs in values.items()
    }
    assert all(abs(total) > 2**63 for total, _ in got.values())  # past int64 both ways


def test_an_output_dataset_downloads_and_feeds_another_operation(sales: Any) -> None:
    uploader, dataset, body, session_id = sales
    selected = run_to_end(
        uploader,
        session_id,
        "select_columns",
        {"dataset": ref(dataset["id"]), "columns": ["amount"]},
    )
    chained = run_to_end(
        uploader,
        session_id,
        "describe",
        {"dataset": {"type": "operation_output", "id": selected["id"]}},
    )
    (line,) = chained["output"]["data"]["columns"]
    assert line["name"] == "amount"
    assert line["mean"] == pytest.approx(statistics.fmean(reference(body)["amount"].to_pylist()))
    assert not math.isnan(line["std"])
    output_id = selected["output"]["datasets"][0]

    def downloaded() -> dict[str, Any] | None:
        status, answer = call_api("GET", f"/datasets/{output_id}/download", owner=uploader.owner)
        return answer if status == 200 else None

    url = wait_for(downloaded, 60, "the download")["url"]
    text = requests.get(url, timeout=30).text
    assert text.splitlines()[0] == '"amount"' and len(text.splitlines()) == 401


def test_a_request_that_does_not_fit_the_wizard_is_422_and_starts_nothing(sales: Any) -> None:
    uploader, dataset, _, session_id = sales
    path = f"/sessions/{session_id}/operations"
    before = len(call_api("GET", path, owner=uploader.owner)[1]["items"])
    request = {"dataset": ref(dataset["id"]), "columns": ["id", "cost"], "top": 5000}
    status, body = call_api(
        "POST", path, {"name": "describe", "input_data": request}, owner=uploader.owner
    )
    assert (status, body["error"]["details"]) == (
        422,
        [{"field": "input_data.top", "problem": "must be at most 1000, not 5000"}],
    )
    request["top"] = 5
    status, body = call_api(
        "POST", path, {"name": "describe", "input_data": request}, owner=uploader.owner
    )
    assert (status, body["error"]["message"]) == (
        422,
        "input_data.columns[1]: no column 'cost' in input_data.dataset",
    )
    status, body = call_api("POST", path, {"name": "pivot", "input_data": {}}, owner=uploader.owner)
    assert (status, body["error"]["message"]) == (
        422,
        "name: no operation 'pivot'; GET /operations lists them",
    )
    assert len(call_api("GET", path, owner=uploader.owner)[1]["items"]) == before


def test_group_by_over_several_buckets_matches_duckdb(
    sales: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploader, dataset, body, session_id = sales
    monkeypatch.setattr(group_by, "bucket_count", lambda *args: 5)
    done = run_to_end(
        uploader,
        session_id,
        "group_by_aggregate",
        {
            "dataset": ref(dataset["id"]),
            "group_by": ["note"],
            "aggregations": [{"column": "qty", "op": "max", "name": "top"}],
        },
    )
    assert done["buckets"] == 5
    sales_table = reference(body)  # noqa: F841 (read by DuckDB by name)
    expected = duckdb.sql(
        "SELECT note, max(qty) FROM sales_table GROUP BY note ORDER BY note"
    ).fetchall()
    got = sorted(rows_of(uploader, done["output"]["datasets"][0]), key=lambda r: r["note"])
    assert [(r["note"], r["top"]) for r in got] == expected


def test_an_aggregate_of_no_rows_is_an_empty_dataset_with_its_columns(sales: Any) -> None:
    uploader, dataset, _, session_id = sales
    done = run_to_end(
        uploader,
        session_id,
        "group_by_aggregate",
        {
            "dataset": ref(dataset["id"]),
            "group_by": ["region"],
            "aggregations": [{"column": "amount", "op": "sum"}],
            "filter": [{"column": "amount", "op": "<", "value": -1}],
        },
    )
    output = uploader.dataset(done["output"]["datasets"][0])
    assert (output["row_count"], [c["name"] for c in output["columns"]]) == (
        0,
        ["region", "sum_amount"],
    )
