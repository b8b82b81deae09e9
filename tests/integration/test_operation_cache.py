"""The operation cache: the same request on the same data is answered at once, per owner;
a replaced dataset or a failed run is computed again."""

from __future__ import annotations

from typing import Any

from tests.integration.sessions_support import (
    finished,
    new_session,
    ref,
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


def big_sums_csv() -> bytes:
    # Two values near int64's top in one group: their sum is past int64.
    return b"k,v\na,9000000000000000000\na,9000000000000000000\nb,1\n"


def test_a_failed_operation_records_why_and_is_not_cached(local: Any) -> None:
    uploader = Uploader(local)
    dataset_id = ready(uploader, big_sums_csv())
    session = new_session(uploader, dataset_id)["id"]
    request = {
        "dataset": ref(dataset_id),
        "group_by": ["k"],
        "aggregations": [{"column": "v", "op": "sum", "name": "total"}],
    }
    for _ in range(2):
        status, operation = run(uploader, session, "group_by_aggregate", request)
        assert (status, operation["cached"]) == (202, False)
        failed = finished(uploader, session, operation["id"])
        assert (failed["status"], failed["message"]) == (
            "FAILED",
            "the sum 'total' is past int64's range",
        )
        assert failed["output"] == {"datasets": [], "data": None}
