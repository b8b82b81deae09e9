"""The /datasets routes, through the api handler, on the embedded AWS."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import MAX_UPLOAD_BYTES
from tests.support import call_api

pytestmark = pytest.mark.usefixtures("local")


def new_owner() -> str:
    return str(uuid.uuid4())


def create(owner: str, **body: Any) -> dict[str, Any]:
    status, created = call_api("POST", "/datasets", {"name": "sales", **body}, owner=owner)
    assert status == 201, created
    return created  # type: ignore[no-any-return]


def test_create_answers_201_with_the_dataset_awaiting_upload() -> None:
    owner = new_owner()
    created = create(owner, path="/sales/2024/eu/", description="EU sales")
    dataset = created["dataset"]
    assert (dataset["name"], dataset["path"], dataset["description"]) == (
        "sales",
        "sales/2024/eu",
        "EU sales",
    )
    assert (dataset["status"], dataset["progress"]) == ("awaiting_upload", 0.0)
    assert "owner" not in dataset


def test_create_answers_a_presigned_post_limited_to_the_upload_size() -> None:
    upload = create(new_owner())["upload"]
    assert upload["max_bytes"] == MAX_UPLOAD_BYTES
    assert upload["expires_in"] == 3600
    assert upload["url"].endswith("/sluice-uploads")
    assert {"key", "policy", "x-amz-signature"} <= set(upload["fields"])
    import base64
    import json

    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    assert ["content-length-range", 1, MAX_UPLOAD_BYTES] in policy["conditions"]


def test_create_without_a_name_is_422_naming_the_field() -> None:
    status, body = call_api("POST", "/datasets", {"path": "a"}, owner=new_owner())
    assert status == 422
    assert body["error"]["code"] == "validation_error"
    assert body["error"]["message"].startswith("name: Field required")


def test_create_with_a_bad_folder_path_is_422_naming_the_path() -> None:
    status, body = call_api(
        "POST", "/datasets", {"name": "x", "path": "a//../b"}, owner=new_owner()
    )
    assert status == 422
    assert body["error"]["message"].startswith("path:")


def test_create_with_an_unknown_field_is_422() -> None:
    status, body = call_api("POST", "/datasets", {"name": "x", "colour": "red"}, owner=new_owner())
    assert status == 422
    assert body["error"]["message"].startswith("colour:")


def test_get_returns_the_owners_dataset() -> None:
    owner = new_owner()
    dataset = create(owner)["dataset"]
    status, body = call_api("GET", f"/datasets/{dataset['id']}", owner=owner)
    assert status == 200
    assert body["id"] == dataset["id"]


def test_another_users_dataset_is_404() -> None:
    dataset = create(new_owner())["dataset"]
    status, body = call_api("GET", f"/datasets/{dataset['id']}", owner=new_owner())
    assert status == 404
    assert body == {"error": {"code": "not_found", "message": f"dataset {dataset['id']} not found"}}


def test_another_user_cannot_update_delete_or_upload_to_a_dataset() -> None:
    dataset_id = create(new_owner())["dataset"]["id"]
    intruder = new_owner()
    assert call_api("PATCH", f"/datasets/{dataset_id}", {"name": "mine"}, owner=intruder)[0] == 404
    assert call_api("DELETE", f"/datasets/{dataset_id}", owner=intruder)[0] == 404
    assert call_api("POST", f"/datasets/{dataset_id}/upload", owner=intruder)[0] == 404


def test_a_malformed_id_is_422() -> None:
    status, body = call_api("GET", "/datasets/not-an-id", owner=new_owner())
    assert status == 422
    assert body["error"]["message"].startswith("path.dataset_id: String should match pattern")


def test_list_pages_through_the_owners_datasets_only() -> None:
    owner = new_owner()
    ids = {create(owner, name=f"d{i}")["dataset"]["id"] for i in range(3)}
    create(new_owner())
    status, first = call_api("GET", "/datasets", owner=owner, query={"limit": "2"})
    assert status == 200
    assert len(first["items"]) == 2 and first["next_token"]
    status, second = call_api(
        "GET", "/datasets", owner=owner, query={"limit": "2", "next_token": first["next_token"]}
    )
    seen = {d["id"] for d in first["items"] + second["items"]}
    assert seen == ids
    assert second["next_token"] is None


def test_a_next_token_from_another_user_is_400() -> None:
    owner = new_owner()
    for i in range(2):
        create(owner, name=f"d{i}")
    token = call_api("GET", "/datasets", owner=owner, query={"limit": "1"})[1]["next_token"]
    status, body = call_api("GET", "/datasets", owner=new_owner(), query={"next_token": token})
    assert status == 400
    assert body["error"]["details"] == {"field": "next_token"}


def test_list_limit_above_100_is_422() -> None:
    status, body = call_api("GET", "/datasets", owner=new_owner(), query={"limit": "101"})
    assert status == 422
    assert body["error"]["message"].startswith("query.limit:")


def test_patch_renames_and_moves_a_dataset() -> None:
    owner = new_owner()
    dataset_id = create(owner)["dataset"]["id"]
    status, body = call_api(
        "PATCH", f"/datasets/{dataset_id}", {"name": "renamed", "path": "a/b"}, owner=owner
    )
    assert status == 200
    assert (body["name"], body["path"], body["description"]) == ("renamed", "a/b", None)


def test_delete_removes_the_record_and_its_uploaded_file(local: Any) -> None:
    owner = new_owner()
    created = create(owner)
    dataset_id, key = created["dataset"]["id"], created["upload"]["fields"]["key"]
    s3 = local.client("s3")
    s3.put_object(Bucket="sluice-uploads", Key=key, Body=b"a,b\n1,2\n")
    status, _ = call_api("DELETE", f"/datasets/{dataset_id}", owner=owner)
    assert status == 204
    assert call_api("GET", f"/datasets/{dataset_id}", owner=owner)[0] == 404
    listed = s3.list_objects_v2(Bucket="sluice-uploads", Prefix=f"uploads/{owner}/{dataset_id}/")
    assert listed["KeyCount"] == 0


def test_renew_upload_presigns_a_new_key_for_the_same_dataset() -> None:
    owner = new_owner()
    created = create(owner)
    dataset_id = created["dataset"]["id"]
    status, upload = call_api("POST", f"/datasets/{dataset_id}/upload", owner=owner)
    assert status == 200
    assert upload["fields"]["key"].startswith(f"uploads/{owner}/{dataset_id}/")
    assert upload["fields"]["key"] != created["upload"]["fields"]["key"]


def test_a_request_without_claims_is_401() -> None:
    status, body = call_api("GET", "/datasets", owner=None)
    assert status == 401
    assert body["error"]["code"] == "unauthorized"


def test_an_unknown_route_is_404_in_the_error_shape() -> None:
    status, body = call_api("GET", "/nowhere", owner=new_owner())
    assert status == 404
    assert body == {"error": {"code": "not_found", "message": "no route GET /nowhere"}}


def test_create_with_more_than_1000_missing_value_texts_is_422_naming_the_field() -> None:
    body = {"name": "x", "na_values": [f"missing {i}" for i in range(1001)]}
    status, answer = call_api("POST", "/datasets", body, owner=new_owner())
    assert status == 422
    assert answer["error"]["message"].startswith("na_values:")


def test_a_record_past_dynamodbs_item_limit_is_413_and_not_stored() -> None:
    owner = new_owner()
    hints = {f"column {i:05d} " + "x" * 40: "string" for i in range(9000)}
    status, answer = call_api(
        "POST", "/datasets", {"name": "x", "column_types": hints}, owner=owner
    )
    assert (status, answer["error"]["code"]) == (413, "payload_too_large")
    assert "400 KB item limit" in answer["error"]["message"]
    assert call_api("GET", "/datasets", owner=owner)[1]["items"] == []
