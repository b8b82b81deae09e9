"""The same content uploaded twice by the same user: 409 / duplicate, naming the holder."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.uploader import Uploader
from tests.support import api_event, call_api, invoke

BODY = b"a,b\n1,2\n3,4\n"


def put_content(uploader: Uploader, dataset_id: str, body: bytes, **query: str) -> tuple[int, Any]:
    event = api_event(
        "PUT", f"/datasets/{dataset_id}/content", owner=uploader.owner, query=query or None
    )
    event["body"] = body.decode()
    event["headers"]["Content-Type"] = "text/csv"
    response = invoke("api", event)
    return response["statusCode"], json.loads(response["body"])


def test_an_upload_of_content_already_held_ends_duplicate_naming_the_original(
    uploader: Uploader,
) -> None:
    original = uploader.ingest(BODY)
    again = uploader.ingest(BODY)
    assert (again["status"], again["duplicate_of"]) == ("duplicate", original["id"])
    assert again["error"] == {
        "code": "duplicate",
        "message": f"the same content is already in dataset {original['id']}",
    }


def test_another_users_identical_upload_is_not_a_duplicate(uploader: Uploader, local: Any) -> None:
    uploader.ingest(b"x\n41\n")
    other = Uploader(local).ingest(b"x\n41\n")
    assert other["status"] == "ready"


def test_allow_duplicate_keeps_a_copy(uploader: Uploader) -> None:
    uploader.ingest(b"k\n7\n8\n")
    copy = uploader.ingest(b"k\n7\n8\n", allow_duplicate=True)
    assert (copy["status"], copy["duplicate_of"]) == ("ready", None)


def test_deleting_the_original_frees_its_content(uploader: Uploader) -> None:
    original = uploader.ingest(b"q\n1\n2\n3\n")
    assert call_api("DELETE", f"/datasets/{original['id']}", owner=uploader.owner)[0] == 204
    assert uploader.ingest(b"q\n1\n2\n3\n")["status"] == "ready"


def test_inline_content_already_held_is_409_with_the_holder(uploader: Uploader) -> None:
    original = uploader.ingest(b"z\n5\n6\n")
    dataset_id, _ = uploader.create()
    status, body = put_content(uploader, dataset_id, b"z\n5\n6\n")
    assert status == 409
    assert body["error"]["details"] == {"dataset_id": original["id"]}
    assert body["error"]["message"] == f"the same content is already in dataset {original['id']}"


def test_inline_content_is_ingested(uploader: Uploader) -> None:
    dataset_id, _ = uploader.create()
    status, body = put_content(uploader, dataset_id, b"n,m\n1,2\n")
    assert (status, body["id"]) == (202, dataset_id)
    assert uploader.settled(dataset_id)["row_count"] == 1


def test_inline_duplicate_with_allow_duplicate_is_kept(uploader: Uploader) -> None:
    uploader.ingest(b"w\n9\n10\n")
    dataset_id, _ = uploader.create()
    status, _ = put_content(uploader, dataset_id, b"w\n9\n10\n", allow_duplicate="true")
    assert status == 202
    assert uploader.settled(dataset_id)["status"] == "ready"


def test_empty_inline_content_is_400(uploader: Uploader) -> None:
    dataset_id, _ = uploader.create()
    status, body = put_content(uploader, dataset_id, b"")
    assert status == 400
    assert body["error"]["message"] == "the request body is empty: send the CSV as the body"
