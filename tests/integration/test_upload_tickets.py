"""Uploads land only where they were issued: the embedded S3 checks each presigned POST's
policy, and on_upload ingests a file only under an open ticket of its dataset."""

from __future__ import annotations

from typing import Any

import requests
from sluice.config import settings
from sluice.datasets.tickets import new_upload_name

from tests.conftest import MAX_UPLOAD_BYTES
from tests.integration.uploader import UPLOADS, Uploader
from tests.support import call_api, wait_for

CSV = b"a,b\n1,2\n3,4\n"


def _post(upload: dict[str, Any], body: bytes, **changed: str) -> requests.Response:
    """Send ``body`` with a presigned POST as a browser would, some fields ``changed``."""
    fields = {**upload["fields"], **changed}
    return requests.post(upload["url"], data=fields, files={"file": body}, timeout=30)


def _stored(uploader: Uploader, key: str) -> bool:
    return bool(uploader.s3.list_objects_v2(Bucket=UPLOADS, Prefix=key)["KeyCount"])


def _deleted(uploader: Uploader, key: str) -> None:
    wait_for(lambda: None if _stored(uploader, key) else True, 30, f"{key} to be deleted")


def test_a_post_whose_key_names_another_users_dataset_is_403_and_leaves_it_untouched(
    uploader: Uploader, local: Any
) -> None:
    victim = Uploader(local)
    victims_id, victims_upload = victim.create()
    before = victim.dataset(victims_id)
    _, upload = uploader.create()
    answer = _post(upload, b"x,y\nforeign,1\n", key=victims_upload["fields"]["key"])
    assert answer.status_code == 403
    assert b"<Code>AccessDenied</Code>" in answer.content
    assert not _stored(uploader, victims_upload["fields"]["key"])
    assert victim.dataset(victims_id) == before
    # The victim's own ticket still lets its file in.
    assert _post(victims_upload, CSV).status_code == 204
    assert victim.settled(victims_id)["row_count"] == 2


def test_a_file_put_at_a_key_never_issued_is_deleted_and_the_dataset_unchanged(
    uploader: Uploader,
) -> None:
    dataset = uploader.ingest(CSV)
    key = f"uploads/{uploader.owner}/{dataset['id']}/{new_upload_name()}.csv"
    uploader.put(key, b"x,y\nforeign,1\n")
    _deleted(uploader, key)
    assert uploader.dataset(dataset["id"]) == dataset
    assert len(uploader.executions(dataset["id"])) == 1


def _body(uploader: Uploader, key: str) -> bytes:
    return uploader.s3.get_object(Bucket=UPLOADS, Key=key)["Body"].read()  # type: ignore[no-any-return]


def test_a_ticket_lets_in_one_file_a_second_post_with_it_is_deleted_and_the_source_kept(
    uploader: Uploader,
) -> None:
    dataset_id, upload = uploader.create()
    key = upload["fields"]["key"]
    assert _post(upload, CSV).status_code == 204
    ready = uploader.settled(dataset_id)
    assert ready["row_count"] == 2
    # S3 takes the same policy again until it expires, and writes the file over the
    # dataset's source; the ticket is used, so on_upload deletes that version alone and
    # starts nothing: the source is the first file again.
    assert _post(upload, b"a,b\n9,9\n").status_code == 204
    wait_for(lambda: _body(uploader, key) == CSV or None, 30, "the second file to be deleted")
    versions = uploader.s3.list_object_versions(Bucket=UPLOADS, Prefix=key)["Versions"]
    assert [v["ETag"].strip('"') for v in versions] == [ready["source"]["etag"].strip('"')]
    assert uploader.dataset(dataset_id) == ready
    assert len(uploader.executions(dataset_id)) == 1


def test_deleting_a_dataset_leaves_no_version_of_its_upload(uploader: Uploader) -> None:
    dataset_id, upload = uploader.create()
    key = upload["fields"]["key"]
    assert _post(upload, CSV).status_code == 204
    uploader.settled(dataset_id)
    assert call_api("DELETE", f"/datasets/{dataset_id}", owner=uploader.owner)[0] == 204
    found = uploader.s3.list_object_versions(Bucket=UPLOADS, Prefix=key)
    assert (found.get("Versions", []), found.get("DeleteMarkers", [])) == ([], [])


def test_a_post_over_the_size_limit_is_refused_by_s3_before_the_dataset_sees_it(
    uploader: Uploader,
) -> None:
    dataset_id, upload = uploader.create()
    answer = _post(upload, b"a\n" + b"1\n" * (MAX_UPLOAD_BYTES // 2))
    assert answer.status_code == 400
    assert b"<Code>EntityTooLarge</Code>" in answer.content
    assert not _stored(uploader, upload["fields"]["key"])
    assert uploader.dataset(dataset_id)["status"] == "awaiting_upload"


def test_a_tampered_signature_is_refused(uploader: Uploader) -> None:
    dataset_id, upload = uploader.create()
    signature = upload["fields"]["x-amz-signature"]
    forged = ("0" if signature[0] != "0" else "1") + signature[1:]
    answer = _post(upload, CSV, **{"x-amz-signature": forged})
    assert answer.status_code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in answer.content
    assert uploader.dataset(dataset_id)["status"] == "awaiting_upload"


def test_a_renewed_upload_supersedes_the_first_whose_ticket_stays_open(
    uploader: Uploader,
) -> None:
    dataset_id, first = uploader.create()
    status, second = call_api("POST", f"/datasets/{dataset_id}/upload", owner=uploader.owner)
    assert status == 200
    assert _post(second, CSV).status_code == 204
    assert uploader.settled(dataset_id)["row_count"] == 2
    assert _post(first, b"a,b\n5,6\n").status_code == 204
    wait_for(lambda: uploader.dataset(dataset_id)["row_count"] == 1 or None, 60, "the first upload")
    assert len(uploader.executions(dataset_id)) == 2


def test_an_aborted_upload_in_parts_leaves_no_ticket(uploader: Uploader) -> None:
    dataset_id, _ = uploader.create()
    status, started = call_api(
        "POST",
        f"/datasets/{dataset_id}/multipart-upload",
        {"bytes": len(CSV)},
        owner=uploader.owner,
    )
    assert status == 201
    abort = {"upload_id": started["upload_id"]}
    path = f"/datasets/{dataset_id}/multipart-upload/abort"
    assert call_api("POST", path, abort, owner=uploader.owner)[0] == 204
    key = f"uploads/{uploader.owner}/{dataset_id}/{started['upload_id'].split('.')[0]}.csv"
    uploader.put(key, CSV)
    _deleted(uploader, key)
    assert uploader.dataset(dataset_id)["status"] == "awaiting_upload"


def test_a_dataset_recorded_before_tickets_gets_its_first_on_a_renewed_upload(
    uploader: Uploader, local: Any
) -> None:
    dataset_id, _ = uploader.create()
    local.client("dynamodb").update_item(
        TableName=settings().table,
        Key={"pk": {"S": f"OWNER#{uploader.owner}"}, "sk": {"S": f"DATASET#{dataset_id}"}},
        UpdateExpression="REMOVE upload_tickets",
    )
    status, upload = call_api("POST", f"/datasets/{dataset_id}/upload", owner=uploader.owner)
    assert status == 200
    assert _post(upload, CSV).status_code == 204
    assert uploader.settled(dataset_id)["row_count"] == 2
