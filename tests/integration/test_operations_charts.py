"""Histogram and describe's quartiles on the real state machine, checked against numpy,
pyarrow and DuckDB over the same rows, on a dataset of several parts."""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pyarrow.compute as pc
import pytest
from sluice.operations import quantiles
from sluice.operations.library import describe
from sluice.operations.library import histogram as histogram_operation

from tests.integration.sessions_support import (
    finished,
    new_session,
    ref,
    reference,
    run,
    run_to_end,
    sales_session,
)
from tests.integration.uploader import Uploader
from tests.support import call_api, hold, wait_for

FIRST_TWO = ("part-000000.parquet", "part-000001.parquet")


@pytest.fixture(scope="module")
def sales(local: Any) -> tuple[Uploader, dict[str, Any], bytes, str]:
    return sales_session(local)


def histogram(sales: Any, **inputs: Any) -> dict[str, Any]:
    uploader, dataset, _, session_id = sales
    request = {"dataset": ref(dataset["id"]), **inputs}
    return run_to_end(uploader, session_id, "histogram", request)["output"]["data"]  # type: ignore[no-any-return]


def test_histogram_of_a_number_column_is_numpys(sales: Any) -> None:
    data = histogram(sales, column="amount", bins=13)
    # sluice stores amount as float32 (the narrowest type that holds it): bin those values.
    values = reference(sales[2])["amount"].to_numpy().astype(np.float32).astype(np.float64)
    counts, bin_edges = np.histogram(values, bins=13)
    assert (data["kind"], data["type"], data["nulls"], data["non_finite"]) == (
        "bins",
        "float32",
        0,
        0,
    )
    assert [b["count"] for b in data["bins"]] == counts.tolist()
    assert [b["start"] for b in data["bins"]] + [data["bins"][-1]["end"]] == bin_edges.tolist()


def test_histogram_of_an_integer_column_counts_its_nulls_apart(sales: Any) -> None:
    data = histogram(sales, column="qty", bins=7)
    column = reference(sales[2])["qty"]
    counts, _ = np.histogram(pc.drop_null(column).to_numpy(), bins=7)
    assert [b["count"] for b in data["bins"]] == counts.tolist()
    assert data["nulls"] == column.null_count > 0


def test_histogram_of_a_time_column_bins_its_range(sales: Any) -> None:
    data = histogram(sales, column="day", bins=4)
    days = reference(sales[2])["day"].cast("int64").to_numpy()
    counts, bin_edges = np.histogram(days, bins=4)
    assert [b["count"] for b in data["bins"]] == counts.tolist()
    assert data["bins"][0]["start"] == "2024-03-01T00:00:00"
    assert data["bins"][-1]["end"] == "2024-03-28T00:00:00"
    assert data["bins"][1]["start"] == "2024-03-07T18:00:00"  # a quarter of 27 days on
    assert bin_edges[1] - bin_edges[0] == 27 * 86_400e6 / 4


def test_histogram_surveys_its_parts_where_they_are_too_many_for_their_footers(
    sales: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(histogram_operation, "FOOTER_SURVEY_PARTS", 0)
    data = histogram(sales, column="price", bins=9)
    counts, bin_edges = np.histogram(reference(sales[2])["price"].to_numpy(), bins=9)
    assert [b["count"] for b in data["bins"]] == counts.tolist()
    assert [b["start"] for b in data["bins"]] + [data["bins"][-1]["end"]] == bin_edges.tolist()


def test_histogram_bins_only_finite_values_whatever_the_footers_say(sales: Any) -> None:
    uploader = sales[0]
    values = [f"{i / 4 - 30:.2f}" for i in range(300)]
    values[17], values[150], values[280] = "inf", "-inf", "NaN"
    dataset = uploader.ingest(("x\n" + "\n".join(values) + "\n").encode())
    assert dataset["status"] == "ready" and dataset["chunk_count"] > 1, dataset["error"]
    session = new_session(uploader, dataset["id"])
    done = run_to_end(
        uploader,
        session["id"],
        "histogram",
        {"dataset": ref(dataset["id"]), "bins": 6, "column": "x"},
    )
    numbers = np.array([float(v) for v in values])
    counts, bin_edges = np.histogram(numbers[np.isfinite(numbers)], bins=6)
    data = done["output"]["data"]
    assert [b["count"] for b in data["bins"]] == counts.tolist()
    assert data["bins"][0]["start"] == bin_edges[0] == -30.0
    assert (data["nulls"], data["non_finite"]) == (1, 2)  # NaN is a missing value's text


def test_histogram_of_a_category_counts_each_value(sales: Any) -> None:
    data = histogram(sales, column="region")
    counts = pc.value_counts(reference(sales[2])["region"]).to_pylist()
    ranked = sorted(counts, key=lambda c: (-c["counts"], c["values"]))
    assert (data["kind"], data["other"], data["nulls"]) == ("counts", 0, 0)
    assert data["values"] == [{"value": c["values"], "count": c["counts"]} for c in ranked]


def test_histogram_of_a_text_lists_its_top_values_and_counts_the_rest(sales: Any) -> None:
    data = histogram(sales, column="note", top=5)
    counts = pc.value_counts(reference(sales[2])["note"]).to_pylist()
    ranked = sorted(counts, key=lambda c: (-c["counts"], c["values"]))
    assert data["values"] == [{"value": c["values"], "count": c["counts"]} for c in ranked[:5]]
    assert data["other"] == 400 - sum(c["counts"] for c in ranked[:5])


@pytest.mark.parametrize("windows", [True, False], ids=["sent", "read again"])
def test_describe_gives_exact_quartiles_as_duckdb(
    sales: Any, monkeypatch: pytest.MonkeyPatch, windows: bool
) -> None:
    """From the values the parts send near the sampled quartiles, or, where a rank lies
    outside those windows (none here), from the column read again."""
    uploader, dataset, body, session_id = sales
    if not windows:
        monkeypatch.setattr(quantiles, "windows", lambda *args: [])
    reads: list[str] = []
    inside = describe.Describe._inside

    def read_again(self: describe.Describe, *args: Any) -> Any:
        reads.append(args[1])
        return inside(self, *args)

    monkeypatch.setattr(describe.Describe, "_inside", read_again)
    request: dict[str, Any] = {
        "dataset": ref(dataset["id"]),
        "columns": ["amount", "qty", "region"],
    }
    request["top"] = 10 if windows else 9  # not the other's cached answer
    done = run_to_end(uploader, session_id, "describe", request)
    assert done["buckets"] == 2  # one a number column: the ranks around its quartiles
    columns = {c["name"]: c for c in done["output"]["data"]["columns"]}
    sales_table = reference(body)  # noqa: F841 (read by DuckDB by name)
    for name, cast in (("amount", "::FLOAT::DOUBLE"), ("qty", "")):
        expected = duckdb.sql(
            f"SELECT quantile_cont({name}{cast}, [0.25, 0.5, 0.75]) FROM sales_table"
        ).fetchall()[0][0]
        line = columns[name]
        assert [line["q1"], line["median"], line["q3"]] == expected, name
    assert "median" not in columns["region"]
    # Without windows every column is read again (qty's quartiles, values of its cuts,
    # from its counts per slot alone; amount's from its intervals too), by rank buckets
    # that may run at once.
    assert sorted(reads) == ([] if windows else ["amount", "qty"])


def test_describe_shows_the_parts_done_while_it_runs(
    sales: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploader, dataset, _, session_id = sales
    # Parts 0 and 1 run through; the others wait until the test has read the output.
    gate = hold(monkeypatch, describe, "read_part", lambda key, *rest: key.endswith(FIRST_TWO))
    try:
        request = {"dataset": ref(dataset["id"]), "columns": ["region"], "top": 4}
        status, operation = run(uploader, session_id, "describe", request)
        assert status == 202
        path = f"/sessions/{session_id}/operations/{operation['id']}"

        def two_done() -> dict[str, Any] | None:
            data = call_api("GET", path, owner=uploader.owner)[1]["output"]["data"]
            return data if data and data["parts_done"] == 2 else None

        so_far = wait_for(two_done, 30, "two parts described")
    finally:
        gate.set()
    (line,) = so_far["columns"]
    assert line["name"] == "region" and 0 < so_far["rows"] < 400
    assert sum(v["count"] for v in line["top"]) == so_far["rows"]
    done = finished(uploader, session_id, operation["id"])
    assert done["output"]["data"]["rows"] == 400 and "parts_done" not in done["output"]["data"]
