"""Sample, stack, sort and join on the real state machine, each checked against pyarrow or
DuckDB computing the same over the same rows, on datasets of several parts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.sessions_support import (
    new_session,
    ref,
    reference,
    rows_of,
    run,
    run_to_end,
    sales_csv,
)
from tests.integration.uploader import Uploader


@pytest.fixture(scope="module")
def sales(local: Any) -> tuple[Uploader, dict[str, Any], bytes, str]:
    uploader = Uploader(local)
    body = sales_csv()
    dataset = uploader.ingest(body)
    assert dataset["status"] == "ready", dataset["error"]
    assert dataset["chunk_count"] > 5  # several typed parts
    session = new_session(uploader, dataset["id"])
    return uploader, dataset, body, session["id"]


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
