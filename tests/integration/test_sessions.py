"""Sessions: CRUD, references checked against what the caller owns, isolation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.sessions_support import new_session, ref, run_to_end, sales_csv
from tests.integration.uploader import Uploader
from tests.support import call_api


@pytest.fixture(scope="module")
def owned(local: Any) -> tuple[Uploader, list[str]]:
    """A user with two ready datasets."""
    uploader = Uploader(local)
    ids = []
    for seed in (0, 1):
        dataset = uploader.ingest(sales_csv(60, seed=seed))
        assert dataset["status"] == "ready", dataset["error"]
        ids.append(dataset["id"])
    return uploader, ids


def test_a_session_is_created_read_listed_and_deleted(owned: Any) -> None:
    uploader, (first, second) = owned
    session = new_session(uploader, first, second, name="March")
    assert (session["name"], session["input_data"]) == ("March", [ref(first), ref(second)])
    assert call_api("GET", f"/sessions/{session['id']}", owner=uploader.owner) == (200, session)
    status, page = call_api("GET", "/sessions", owner=uploader.owner, query={"limit": "100"})
    assert status == 200 and session["id"] in [s["id"] for s in page["items"]]
    assert call_api("DELETE", f"/sessions/{session['id']}", owner=uploader.owner)[0] == 204
    assert call_api("GET", f"/sessions/{session['id']}", owner=uploader.owner)[0] == 404


def test_sessions_are_listed_a_page_at_a_time(local: Any) -> None:
    uploader = Uploader(local)
    made = {new_session(uploader, name=f"s{i}")["id"] for i in range(3)}
    first = call_api("GET", "/sessions", owner=uploader.owner, query={"limit": "2"})[1]
    rest = call_api(
        "GET",
        "/sessions",
        owner=uploader.owner,
        query={"limit": "2", "next_token": first["next_token"]},
    )[1]
    assert len(first["items"]) == 2
    assert {s["id"] for s in first["items"] + rest["items"]} == made


def test_an_update_renames_and_appends_new_input_items(owned: Any) -> None:
    uploader, (first, second) = owned
    session = new_session(uploader, first)
    status, updated = call_api(
        "PATCH",
        f"/sessions/{session['id']}",
        {"name": "renamed", "input_data": [ref(first), ref(second)]},
        owner=uploader.owner,
    )
    assert status == 200
    assert (updated["name"], updated["input_data"]) == ("renamed", [ref(first), ref(second)])


def test_an_input_item_naming_another_users_dataset_is_422_naming_it(
    owned: Any, local: Any
) -> None:
    _, (first, _) = owned
    stranger = Uploader(local)
    status, body = call_api(
        "POST",
        "/sessions",
        {"name": "x", "input_data": [{"type": "dataset", "id": "0" * 32}, ref(first)]},
        owner=stranger.owner,
    )
    assert status == 422
    assert body["error"]["message"] == (f"input_data[0]: dataset {'0' * 32} not found (and 1 more)")
    assert body["error"]["details"][1] == {
        "field": "input_data[1]",
        "problem": f"dataset {first} not found",
    }


def test_output_references_must_name_the_callers_task_or_operation(owned: Any) -> None:
    uploader, (first, _) = owned
    session = new_session(uploader, first)
    done = run_to_end(uploader, session["id"], "describe", {"dataset": ref(first)})
    items = [
        {"type": "operation_output", "id": done["id"]},
        {"type": "task_output", "id": "1" * 32},
        {"type": "operation_output", "id": done["id"], "file": "part-00000.csv"},
    ]
    status, body = call_api(
        "PATCH", f"/sessions/{session['id']}", {"input_data": items}, owner=uploader.owner
    )
    assert status == 422
    assert [d["field"] for d in body["error"]["details"]] == ["input_data[1]", "input_data[2]"]
    assert body["error"]["details"][0]["problem"] == f"task {'1' * 32} not found"
    unchanged = call_api("GET", f"/sessions/{session['id']}", owner=uploader.owner)[1]
    assert unchanged["input_data"] == [ref(first)]


def test_another_users_session_and_operation_are_404(owned: Any, local: Any) -> None:
    uploader, (first, _) = owned
    session = new_session(uploader, first)
    done = run_to_end(uploader, session["id"], "describe", {"dataset": ref(first)})
    stranger = Uploader(local).owner
    sid = session["id"]
    assert call_api("GET", f"/sessions/{sid}", owner=stranger)[0] == 404
    assert call_api("PATCH", f"/sessions/{sid}", {"name": "x"}, owner=stranger)[0] == 404
    assert call_api("DELETE", f"/sessions/{sid}", owner=stranger)[0] == 404
    assert call_api("GET", f"/sessions/{sid}/operations", owner=stranger)[0] == 404
    path = f"/sessions/{sid}/operations/{done['id']}"
    assert call_api("GET", path, owner=stranger)[0] == 404
    assert call_api("DELETE", path, owner=stranger)[0] == 404
    assert call_api("GET", path, owner=uploader.owner)[0] == 200


def test_operations_are_deleted_one_or_many_with_their_output_datasets(owned: Any) -> None:
    uploader, (first, second) = owned
    session = new_session(uploader, first, second)["id"]
    selected = [
        run_to_end(uploader, session, "select_columns", {"dataset": ref(d), "columns": ["id"]})
        for d in (first, second)
    ]
    described = run_to_end(uploader, session, "describe", {"dataset": ref(second), "top": 2})
    base = f"/sessions/{session}/operations"
    assert call_api("DELETE", f"{base}/{described['id']}", owner=uploader.owner)[0] == 204
    missing = "f" * 32
    ids = ",".join([selected[0]["id"], missing])
    status, body = call_api("DELETE", base, owner=uploader.owner, query={"ids": ids})
    assert (status, body["error"]["message"]) == (404, f"operation {missing} not found")
    ids = ",".join(s["id"] for s in selected)
    assert call_api("DELETE", base, owner=uploader.owner, query={"ids": ids})[0] == 204
    assert call_api("GET", base, owner=uploader.owner)[1]["items"] == []
    for operation in selected:
        output = operation["output"]["datasets"][0]
        assert call_api("GET", f"/datasets/{output}", owner=uploader.owner)[0] == 404
