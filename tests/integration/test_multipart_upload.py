"""Uploads in parts: presigned PUTs that really land, completed into the dataset's file."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from sluice.datasets.multipart import MIN_PART_BYTES

from tests.integration.uploader import UPLOADS, Uploader
from tests.support import call_api

ROWS = 400_000


@pytest.fixture
def big_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Uploads of a few MiB (S3's parts are 5 MiB or more), ingested in 4 MiB chunks."""
    monkeypatch.setenv("SLUICE_MAX_UPLOAD_BYTES", str(64 * 1024 * 1024))
    monkeypatch.setenv("SLUICE_CHUNK_BYTES", str(4 * 1024 * 1024))


def csv_of(rows: int) -> bytes:
    lines = ["id,amount,city"] + [f"{i},{i * 7 % 1000}.5,city {i % 97}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def start(uploader: Uploader, dataset_id: str, size: int, **body: Any) -> tuple[int, Any]:
    return call_api(
        "POST",
        f"/datasets/{dataset_id}/multipart-upload",
        {"bytes": size, **body},
        owner=uploader.owner,
    )


def put_parts(ticket: dict[str, Any], data: bytes) -> list[dict[str, Any]]:
    """PUT each part to its presigned URL; the parts as completing names them."""
    parts = []
    for part in ticket["parts"]:
        chunk = data[part["offset"] : part["offset"] + part["bytes"]]
        answer = requests.put(part["url"], data=chunk, timeout=60)
        assert answer.status_code == 200, answer.text
        parts.append({"number": part["number"], "etag": answer.headers["ETag"]})
    return parts


def complete(uploader: Uploader, dataset_id: str, body: dict[str, Any]) -> tuple[int, Any]:
    return call_api(
        "POST", f"/datasets/{dataset_id}/multipart-upload/complete", body, owner=uploader.owner
    )


@pytest.mark.usefixtures("big_files")
def test_a_file_uploaded_in_parts_lands_whole_and_is_ingested(uploader: Uploader) -> None:
    data = csv_of(ROWS)
    assert len(data) > MIN_PART_BYTES  # so that it takes two parts
    dataset_id, _ = uploader.create()
    status, ticket = start(uploader, dataset_id, len(data), part_bytes=MIN_PART_BYTES)
    assert status == 201, ticket
    assert [(p["number"], p["offset"], p["bytes"]) for p in ticket["parts"]] == [
        (1, 0, MIN_PART_BYTES),
        (2, MIN_PART_BYTES, len(data) - MIN_PART_BYTES),
    ]
    status, body = complete(
        uploader, dataset_id, {"upload_id": ticket["upload_id"], "parts": put_parts(ticket, data)}
    )
    assert status == 200, body
    dataset = uploader.settled(dataset_id)
    assert (dataset["status"], dataset["row_count"], dataset["source"]["bytes"]) == (
        "ready",
        ROWS,
        len(data),
    )
    landed = uploader.s3.get_object(Bucket=UPLOADS, Key=dataset["source"]["key"])
    assert landed["Body"].read() == data


@pytest.mark.usefixtures("big_files")
def test_a_part_with_the_wrong_etag_is_named_and_the_upload_stays_open(
    uploader: Uploader,
) -> None:
    data = csv_of(1_000)
    dataset_id, _ = uploader.create()
    _, ticket = start(uploader, dataset_id, len(data))
    (part,) = put_parts(ticket, data)
    wrong = {"upload_id": ticket["upload_id"], "parts": [{"number": 1, "etag": '"0123abcd"'}]}
    status, body = complete(uploader, dataset_id, wrong)
    assert (status, body["error"]["details"]) == (400, {"field": "parts", "part": 1})
    assert body["error"]["message"] == (
        'body.parts: part 1\'s etag "0123abcd" is not that of the part that landed'
    )
    status, _ = complete(uploader, dataset_id, {"upload_id": ticket["upload_id"], "parts": [part]})
    assert status == 200
    assert uploader.settled(dataset_id)["row_count"] == 1_000


@pytest.mark.usefixtures("big_files")
def test_a_part_not_yet_put_is_named(uploader: Uploader) -> None:
    dataset_id, _ = uploader.create()
    _, ticket = start(uploader, dataset_id, 10)
    status, body = complete(
        uploader,
        dataset_id,
        {"upload_id": ticket["upload_id"], "parts": [{"number": 1, "etag": "abc"}]},
    )
    assert (status, body["error"]["message"]) == (
        400,
        "body.parts: part 1 has not landed; PUT it to its URL first",
    )


@pytest.mark.usefixtures("big_files")
def test_parts_out_of_order_are_refused(uploader: Uploader) -> None:
    dataset_id, _ = uploader.create()
    _, ticket = start(uploader, dataset_id, 10)
    parts = [{"number": 2, "etag": "b"}, {"number": 1, "etag": "a"}]
    status, body = complete(
        uploader, dataset_id, {"upload_id": ticket["upload_id"], "parts": parts}
    )
    assert (status, body["error"]["details"]) == (400, {"field": "parts", "numbers": [2, 1]})


@pytest.mark.usefixtures("big_files")
def test_a_file_over_the_limit_is_refused_before_any_part(uploader: Uploader) -> None:
    dataset_id, _ = uploader.create()
    status, body = start(uploader, dataset_id, 64 * 1024 * 1024 + 1)
    assert (status, body["error"]["code"], body["error"]["details"]["field"]) == (
        413,
        "payload_too_large",
        "bytes",
    )


@pytest.mark.usefixtures("big_files")
def test_an_aborted_upload_cannot_be_completed(uploader: Uploader) -> None:
    data = csv_of(100)
    dataset_id, _ = uploader.create()
    _, ticket = start(uploader, dataset_id, len(data))
    parts = put_parts(ticket, data)
    status, _ = call_api(
        "POST",
        f"/datasets/{dataset_id}/multipart-upload/abort",
        {"upload_id": ticket["upload_id"]},
        owner=uploader.owner,
    )
    assert status == 204
    status, body = complete(
        uploader, dataset_id, {"upload_id": ticket["upload_id"], "parts": parts}
    )
    assert (status, body["error"]["code"]) == (404, "not_found")
    assert uploader.dataset(dataset_id)["status"] == "awaiting_upload"


@pytest.mark.usefixtures("big_files")
def test_another_users_upload_id_is_404(uploader: Uploader, local: Any) -> None:
    data = csv_of(100)
    dataset_id, _ = uploader.create()
    _, ticket = start(uploader, dataset_id, len(data))
    parts = put_parts(ticket, data)
    other = Uploader(local)
    other_id, _ = other.create()
    status, body = complete(other, other_id, {"upload_id": ticket["upload_id"], "parts": parts})
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body = complete(other, dataset_id, {"upload_id": ticket["upload_id"], "parts": parts})
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, _ = complete(uploader, dataset_id, {"upload_id": ticket["upload_id"], "parts": parts})
    assert status == 200  # the owner's upload was left open, untouched


@pytest.mark.usefixtures("big_files")
def test_a_malformed_upload_id_is_422(uploader: Uploader) -> None:
    dataset_id, _ = uploader.create()
    body = {"upload_id": "../etc", "parts": [{"number": 1, "etag": "a"}]}
    status, answer = complete(uploader, dataset_id, body)
    assert (status, answer["error"]["code"]) == (422, "validation_error")


def renew(uploader: Uploader, dataset_id: str, body: dict[str, Any]) -> tuple[int, Any]:
    return call_api(
        "POST", f"/datasets/{dataset_id}/multipart-upload/parts", body, owner=uploader.owner
    )


@pytest.mark.usefixtures("big_files")
def test_parts_presigned_again_land_and_the_landed_ones_are_listed(uploader: Uploader) -> None:
    data = csv_of(ROWS)
    dataset_id, _ = uploader.create()
    _, ticket = start(uploader, dataset_id, len(data), part_bytes=MIN_PART_BYTES)
    first, second = ticket["parts"]
    (sent,) = put_parts({"parts": [first]}, data)
    status, renewal = renew(
        uploader, dataset_id, {"upload_id": ticket["upload_id"], "numbers": [2]}
    )
    assert status == 200, renewal
    assert [p["number"] for p in renewal["parts"]] == [2]
    assert renewal["landed"] == [
        {"number": 1, "bytes": MIN_PART_BYTES, "etag": sent["etag"].strip('"')}
    ]
    (resent,) = put_parts({"parts": [{**second, "url": renewal["parts"][0]["url"]}]}, data)
    status, body = complete(
        uploader, dataset_id, {"upload_id": ticket["upload_id"], "parts": [sent, resent]}
    )
    assert status == 200, body
    assert uploader.settled(dataset_id)["row_count"] == ROWS


@pytest.mark.usefixtures("big_files")
def test_an_aborted_upload_is_not_presigned_again(uploader: Uploader) -> None:
    data = csv_of(100)
    dataset_id, _ = uploader.create()
    _, ticket = start(uploader, dataset_id, len(data))
    call_api(
        "POST",
        f"/datasets/{dataset_id}/multipart-upload/abort",
        {"upload_id": ticket["upload_id"]},
        owner=uploader.owner,
    )
    status, body = renew(uploader, dataset_id, {"upload_id": ticket["upload_id"], "numbers": [1]})
    assert (status, body["error"]["message"]) == (
        404,
        f"no upload {ticket['upload_id']} in progress for this dataset",
    )


@pytest.mark.usefixtures("big_files")
def test_another_users_upload_is_not_presigned_again(uploader: Uploader, local: Any) -> None:
    data = csv_of(100)
    dataset_id, _ = uploader.create()
    _, ticket = start(uploader, dataset_id, len(data))
    other = Uploader(local)
    status, _ = renew(other, dataset_id, {"upload_id": ticket["upload_id"], "numbers": [1]})
    assert status == 404


def test_a_part_number_twice_is_422_naming_the_field(uploader: Uploader) -> None:
    dataset_id, _ = uploader.create()
    status, body = renew(uploader, dataset_id, {"upload_id": "0123456789ab.x", "numbers": [1, 1]})
    assert status == 422
    assert "numbers" in body["error"]["message"]
