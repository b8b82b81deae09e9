"""The operation cache: the same request on the same data is answered at once, per owner;
a replaced dataset or a failed run is computed again."""

from __future__ import annotations

from typing import Any

import pytest
from sluice.operations.library import select_columns

from tests.integration.sessions_support import (
    finished,
    new_session,
    ref,
    reference,
    rows_of,
    run,
    run_to_end,
    sales_csv,
)
from tests.integration.uploader import Uploader
from tests.support import call_api, wait_for


def executions(uploader: Uploader) -> set[str]:
    machine = uploader.machine("run_operation")
    listed = uploader.sfn.list_executions(stateMachineArn=machine, maxResults=1000)
    return {e["name"] for e in listed["executions"]}


def ready(uploader: Uploader, body: bytes) -> str:
    dataset = uploader.ingest(body)
    assert dataset["status"] == "ready", dataset["error"]
    return str(dataset["id"])


def test_the_same_request_in_another_session_is_answered_from_the_cache(local: Any) -> None:
    uploader = Uploader(local)
    dataset_id = ready(uploader, sales_csv(80))
    request = {"dataset": ref(dataset_id), "columns": ["amount", "qty"], "top": 10}
    first = run_to_end(uploader, new_session(uploader, dataset_id)["id"], "describe", request)
    other = new_session(uploader, dataset_id)["id"]
    before = executions(uploader)
    # The same inputs in another order, the default given explicitly: the same request.
    status, answer = run(
        uploader, other, "describe", {"columns": ["qty", "amount"], "dataset": ref(dataset_id)}
    )
    assert (status, answer["status"], answer["cached"], answer["progress"]) == (
        200,
        "COMPLETED",
        True,
        1.0,
    )
    assert answer["cache_key"] == first["cache_key"]
    assert executions(uploader) == before
    got = call_api("GET", f"/sessions/{other}/operations/{answer['id']}", owner=uploader.owner)[1]
    assert got["output"] == first["output"]


def test_a_cached_table_result_names_the_same_output_dataset(local: Any) -> None:
    uploader = Uploader(local)
    dataset_id = ready(uploader, sales_csv(50))
    session = new_session(uploader, dataset_id)["id"]
    request = {"dataset": ref(dataset_id), "columns": ["id"]}
    first = run_to_end(uploader, session, "select_columns", request)
    status, again = run(uploader, session, "select_columns", request)
    assert (status, again["output"]["datasets"]) == (200, first["output"]["datasets"])


def test_a_cached_result_whose_output_dataset_was_deleted_is_computed_again(
    local: Any,
) -> None:
    uploader = Uploader(local)
    dataset_id = ready(uploader, sales_csv(50))
    session = new_session(uploader, dataset_id)["id"]
    request = {"dataset": ref(dataset_id), "columns": ["id", "label"]}
    first = run_to_end(uploader, session, "select_columns", request)
    (deleted,) = first["output"]["datasets"]
    assert call_api("DELETE", f"/datasets/{deleted}", owner=uploader.owner)[0] == 204
    status, again = run(uploader, session, "select_columns", request)
    assert (status, again["cached"]) == (202, False)
    done = finished(uploader, session, again["id"])
    (output_id,) = done["output"]["datasets"]
    assert output_id != deleted
    assert (
        rows_of(uploader, output_id) == reference(sales_csv(50)).select(["id", "label"]).to_pylist()
    )
    # The cache names the new run now.
    status, third = run(uploader, session, "select_columns", request)
    assert (status, third["output"]["datasets"]) == (200, [output_id])


def test_deleting_the_run_a_cached_answer_came_from_keeps_the_answers_outputs(
    local: Any,
) -> None:
    uploader = Uploader(local)
    dataset_id = ready(uploader, sales_csv(50))
    sessions = [new_session(uploader, dataset_id)["id"] for _ in range(2)]
    request = {"dataset": ref(dataset_id), "columns": ["big", "label"]}
    source = run_to_end(uploader, sessions[0], "select_columns", request)
    status, answer = run(uploader, sessions[1], "select_columns", request)
    assert (status, answer["cached"]) == (200, True)
    path = f"/sessions/{sessions[0]}/operations/{source['id']}"
    assert call_api("DELETE", path, owner=uploader.owner)[0] == 204
    (output_id,) = answer["output"]["datasets"]
    assert uploader.dataset(output_id)["status"] == "ready"
    # The cache now answers with the remaining answer's record, and the same dataset.
    status, again = run(uploader, sessions[0], "select_columns", request)
    assert (status, again["output"]["datasets"], again["message"]) == (
        200,
        [output_id],
        f"the result of operation {answer['id']}, on the same data",
    )
    # Once no record answers with them, the outputs go, and the request is computed again.
    for session, operation in ((sessions[1], answer), (sessions[0], again)):
        path = f"/sessions/{session}/operations/{operation['id']}"
        assert call_api("DELETE", path, owner=uploader.owner)[0] == 204
    assert call_api("GET", f"/datasets/{output_id}", owner=uploader.owner)[0] == 404
    status, fresh = run(uploader, sessions[0], "select_columns", request)
    assert (status, fresh["cached"]) == (202, False)
    finished(uploader, sessions[0], fresh["id"])


def test_a_cached_json_result_outlives_the_run_it_came_from(local: Any) -> None:
    uploader = Uploader(local)
    dataset_id = ready(uploader, sales_csv(40))
    sessions = [new_session(uploader, dataset_id)["id"] for _ in range(2)]
    request = {"dataset": ref(dataset_id), "columns": ["big"]}
    source = run_to_end(uploader, sessions[0], "describe", request)
    status, answer = run(uploader, sessions[1], "describe", request)
    assert (status, answer["cached"]) == (200, True)
    path = f"/sessions/{sessions[0]}/operations/{source['id']}"
    assert call_api("DELETE", path, owner=uploader.owner)[0] == 204
    path = f"/sessions/{sessions[1]}/operations/{answer['id']}"
    assert call_api("GET", path, owner=uploader.owner)[1]["output"] == source["output"]


def test_a_replaced_dataset_is_computed_again(local: Any) -> None:
    uploader = Uploader(local)
    dataset_id = ready(uploader, sales_csv(50))
    session = new_session(uploader, dataset_id)["id"]
    request = {"dataset": ref(dataset_id)}
    first = run_to_end(uploader, session, "describe", request)
    ticket = call_api("POST", f"/datasets/{dataset_id}/upload", owner=uploader.owner)[1]
    uploader.put(ticket["fields"]["key"], sales_csv(70, seed=3))

    def replaced() -> dict[str, Any] | None:
        dataset = uploader.dataset(dataset_id)
        return dataset if dataset["status"] == "ready" and dataset["row_count"] == 70 else None

    wait_for(replaced, 60, "the replaced dataset")
    status, again = run(uploader, session, "describe", request)
    assert (status, again["cached"]) == (202, False)
    assert again["cache_key"] != first["cache_key"]
    assert finished(uploader, session, again["id"])["output"]["data"]["rows"] == 70


def test_the_cache_is_never_shared_across_owners(local: Any) -> None:
    body = sales_csv(40, seed=5)
    owners = [Uploader(local), Uploader(local)]
    answers = []
    for uploader in owners:
        dataset_id = ready(uploader, body)  # the same content, in each owner's account
        session = new_session(uploader, dataset_id)["id"]
        answers.append(run(uploader, session, "describe", {"dataset": ref(dataset_id)}))
        finished(uploader, session, answers[-1][1]["id"])
    assert [status for status, _ in answers] == [202, 202]
    assert [a["cached"] for _, a in answers] == [False, False]


def test_a_failed_operation_records_why_and_is_not_cached(
    local: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploader = Uploader(local)
    dataset_id = ready(uploader, sales_csv(30))
    session = new_session(uploader, dataset_id)["id"]

    def broken(*args: Any) -> Any:
        raise ValueError("this part cannot be read")

    monkeypatch.setattr(select_columns.SelectColumns, "run_part", broken)
    request = {"dataset": ref(dataset_id), "columns": ["id"]}
    for _ in range(2):
        status, operation = run(uploader, session, "select_columns", request)
        assert (status, operation["cached"]) == (202, False)
        failed = finished(uploader, session, operation["id"])
        assert (failed["status"], failed["message"]) == ("FAILED", "this part cannot be read")
        assert failed["output"] == {"datasets": [], "data": None, "parts": None}
