"""How an operation's execution runs and ends: its parts as a Distributed Map over a list
in S3, a transient error retried, a failed part, a delete while it runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sluice.aws import execution_arn
from sluice.config import settings
from sluice.operations.library import select_columns
from sluice.sessions import steps

from tests.integration.sessions_support import (
    finished,
    new_session,
    ref,
    rows_of,
    run,
    sales_csv,
)
from tests.integration.uploader import Uploader
from tests.support import call_api, hold, wait_for

DATA = "sluice-data"


@pytest.fixture(scope="module")
def sales(local: Any) -> tuple[Uploader, str]:
    uploader = Uploader(local)
    dataset = uploader.ingest(sales_csv(120))
    assert dataset["status"] == "ready", dataset["error"]
    return uploader, dataset["id"]


def keys(uploader: Uploader, prefix: str) -> list[str]:
    listed = uploader.s3.list_objects_v2(Bucket=DATA, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def test_the_parts_are_read_from_s3_and_finish_reads_their_answers_from_s3(sales: Any) -> None:
    uploader, dataset_id = sales
    session = new_session(uploader, dataset_id)["id"]
    request = {"dataset": ref(dataset_id), "columns": ["label", "qty"]}  # asked by no other test
    status, operation = run(uploader, session, "select_columns", request)
    assert status == 202
    done = finished(uploader, session, operation["id"])
    assert done["status"] == "COMPLETED", done["message"]
    arn = execution_arn(uploader.machine("run_operation"), f"op-{operation['id']}")
    history = uploader.sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    # One Map Run (Parts: no shuffle, so no Buckets), and no part in the state.
    assert len([e for e in history if "mapRunStartedEventDetails" in e]) == 1
    assert "/parts/part-" not in json.dumps(history, default=str)
    finish = [
        json.loads(e["taskScheduledEventDetails"]["parameters"])["Payload"]
        for e in history
        if "taskScheduledEventDetails" in e
    ][-1]
    maps = f"operations/{uploader.owner}/{operation['id']}/maps/"
    answers = finish["parts"]
    assert finish["buckets"] is None
    assert answers["Bucket"] == DATA
    assert answers["Key"].startswith(maps) and answers["Key"].endswith("/manifest.json")
    assert answers["Key"] in keys(uploader, maps)  # kept, a record of the Map Run
    output = uploader.dataset(done["output"]["datasets"][0])
    assert output["row_count"] == 120


def test_a_failed_part_fails_the_operation_with_its_message_and_leaves_no_outputs(
    sales: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploader, dataset_id = sales
    original = select_columns.SelectColumns.run_part

    def failing_on_part_1(self: Any, run_: Any, part: Any, buckets: int) -> Any:
        if part.index == 1:
            raise ValueError("part 1 could not be read: the disk said no")
        return original(self, run_, part, buckets)

    monkeypatch.setattr(select_columns.SelectColumns, "run_part", failing_on_part_1)
    session = new_session(uploader, dataset_id)["id"]
    before = set(keys(uploader, f"datasets/{uploader.owner}/"))
    request = {"dataset": ref(dataset_id), "columns": ["region", "label"]}
    status, operation = run(uploader, session, "select_columns", request)
    assert status == 202
    done = finished(uploader, session, operation["id"])
    assert (done["status"], done["message"]) == (
        "FAILED",
        "part 1 could not be read: the disk said no",
    )

    # The other parts' steps may still be writing as it fails: each then finds its
    # operation ended and removes what it wrote.
    def cleaned_up() -> bool | None:
        datasets = set(keys(uploader, f"datasets/{uploader.owner}/"))
        work = keys(uploader, f"operations/{uploader.owner}/{operation['id']}/")
        return (datasets == before and not work) or None

    wait_for(cleaned_up, 30, "no output left")


def test_a_transient_error_is_retried(sales: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    uploader, dataset_id = sales
    original = select_columns.SelectColumns.run_part
    calls: list[int] = []

    def flaky(self: Any, run_: Any, part: Any, buckets: int) -> Any:
        calls.append(part.index)
        if len(calls) == 1:
            raise steps.TransientError("S3 answered 503 SlowDown")
        return original(self, run_, part, buckets)

    monkeypatch.setattr(select_columns.SelectColumns, "run_part", flaky)
    session = new_session(uploader, dataset_id)["id"]
    status, operation = run(
        uploader, session, "select_columns", {"dataset": ref(dataset_id), "columns": ["region"]}
    )
    assert status == 202
    done = finished(uploader, session, operation["id"])
    assert done["status"] == "COMPLETED"
    assert len(calls) == done["parts"] + 1
    output = uploader.dataset(done["output"]["datasets"][0])
    assert output["row_count"] == 120


def test_a_running_table_result_lists_the_parts_written_so_far(
    sales: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploader, dataset_id = sales
    # Parts 0 and 1 are written; the others wait until the test has read the output.
    gate = hold(monkeypatch, select_columns, "write_part", lambda index, *rest: index < 2)
    try:
        session = new_session(uploader, dataset_id)["id"]
        request = {"dataset": ref(dataset_id), "columns": ["id", "label"]}
        status, operation = run(uploader, session, "select_columns", request)
        assert status == 202
        path = f"/sessions/{session}/operations/{operation['id']}"

        def two_written() -> dict[str, Any] | None:
            answer = call_api("GET", path, owner=uploader.owner)[1]
            parts = answer["output"]["parts"]
            return answer if parts and len(parts) == 2 else None

        so_far = wait_for(two_written, 30, "two parts written")
    finally:
        gate.set()
    assert so_far["status"] == "IN_PROGRESS" and so_far["output"]["datasets"] == []
    parts = so_far["output"]["parts"]
    assert [p["index"] for p in parts] == [0, 1]
    assert all(p["rows"] > 0 and p["bytes"] > 0 for p in parts)
    done = finished(uploader, session, operation["id"])
    output = uploader.dataset(done["output"]["datasets"][0])
    assert (done["output"]["parts"], output["row_count"]) == (None, 120)
    first_rows = rows_of(uploader, output["id"])[: parts[0]["rows"] + parts[1]["rows"]]
    assert [r["id"] for r in first_rows] == list(range(parts[0]["rows"] + parts[1]["rows"]))


def test_an_operation_recorded_before_its_parts_were_listed_still_completes(
    sales: Any, local: Any, held_writes: Any
) -> None:
    uploader, dataset_id = sales
    session = new_session(uploader, dataset_id)["id"]
    request = {"dataset": ref(dataset_id), "columns": ["qty", "id"]}  # asked by no other test
    status, operation = run(uploader, session, "select_columns", request)
    assert status == 202
    path = f"/sessions/{session}/operations/{operation['id']}"
    wait_for(
        lambda: call_api("GET", path, owner=uploader.owner)[1]["status"] == "IN_PROGRESS" or None,
        30,
        "the operation to run",
    )
    # As a record written before the map of parts existed: the steps start it.
    local.client("dynamodb").update_item(
        TableName=settings().table,
        Key={"pk": {"S": f"OWNER#{uploader.owner}"}, "sk": {"S": f"SESSIONOP#{operation['id']}"}},
        UpdateExpression="REMOVE written",
    )
    held_writes.set()
    done = finished(uploader, session, operation["id"])
    assert done["status"] == "COMPLETED", done["message"]
    assert uploader.dataset(done["output"]["datasets"][0])["row_count"] == 120


@pytest.fixture
def held_writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    gate = hold(monkeypatch, select_columns, "write_part")
    yield gate
    gate.set()


def test_deleting_a_running_operation_leaves_no_outputs(sales: Any, held_writes: Any) -> None:
    uploader, dataset_id = sales
    session = new_session(uploader, dataset_id)["id"]
    before = set(keys(uploader, f"datasets/{uploader.owner}/"))
    status, operation = run(
        uploader, session, "select_columns", {"dataset": ref(dataset_id), "columns": ["id"]}
    )
    assert status == 202
    path = f"/sessions/{session}/operations/{operation['id']}"
    wait_for(
        lambda: call_api("GET", path, owner=uploader.owner)[1]["status"] == "IN_PROGRESS" or None,
        30,
        "the operation to run",
    )
    assert call_api("DELETE", path, owner=uploader.owner)[0] == 204
    held_writes.set()  # the held steps now write their parts, after the delete

    def ended() -> str | None:
        listed = uploader.sfn.list_executions(stateMachineArn=uploader.machine("run_operation"))
        found = [e for e in listed["executions"] if e["name"] == f"op-{operation['id']}"]
        return found[0]["status"] if found and found[0]["status"] != "RUNNING" else None

    # Stopped by the delete (AWS says ABORTED; moto turns a stopped run FAILED when a
    # state of it fails after the stop).
    assert wait_for(ended, 60, "the execution to end") in ("ABORTED", "FAILED")

    # A stopped execution's steps still in flight finish after it has ended: each finds
    # its operation gone after writing and removes what it wrote.
    def cleaned_up() -> bool | None:
        datasets = set(keys(uploader, f"datasets/{uploader.owner}/"))
        work = keys(uploader, f"operations/{uploader.owner}/{operation['id']}/")
        return (datasets == before and not work) or None

    wait_for(cleaned_up, 30, "the steps in flight to remove what they wrote")
    assert call_api("GET", path, owner=uploader.owner)[0] == 404


def test_an_operation_whose_input_is_deleted_while_it_reads_fails_saying_so(
    local: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploader = Uploader(local)
    dataset = uploader.ingest(sales_csv(120))
    session = new_session(uploader, dataset["id"])["id"]
    gate = hold(monkeypatch, select_columns, "read_part")
    status, operation = run(
        uploader, session, "select_columns", {"dataset": ref(dataset["id"]), "columns": ["id"]}
    )
    assert status == 202
    assert call_api("DELETE", f"/datasets/{dataset['id']}", owner=uploader.owner)[0] == 204
    gate.set()  # the held parts now read what the delete removed
    ended = finished(uploader, session, operation["id"])
    assert (ended["status"], ended["message"]) == (
        "FAILED",
        f"dataset {dataset['id']} was deleted while this operation read it",
    )
