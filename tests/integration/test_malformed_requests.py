"""Issue 17: every malformed request is a 4xx in the one error shape, never a server error;
and the OpenAPI document describes every answer as the routes give it."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import requests
from sluice.api.app import allowed_methods, app
from sluice.local.system import DEMO_PASSWORD, DEMO_USER

from tests.support import api_event, call_api, invoke

pytestmark = pytest.mark.usefixtures("local")

ERROR_REF = "#/components/schemas/ErrorResponse"


def send(
    method: str,
    path: str,
    body: bytes | str | None,
    content_type: str | None = "application/json",
    owner: str | None = "11111111-2222-3333-4444-555555555555",
) -> tuple[int, dict[str, Any], dict[str, list[str]]]:
    """(status, JSON body, headers) of the api function for a raw body; bytes that are not
    UTF-8 arrive base64-encoded, as the gateway sends them."""
    event = api_event(method, path, owner=owner)
    headers = {"Host": "127.0.0.1"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    event["headers"] = headers
    event["multiValueHeaders"] = {name: [value] for name, value in headers.items()}
    if isinstance(body, bytes):
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    else:
        event["body"], event["isBase64Encoded"] = body, False
    response = invoke("api", event)
    headers_out = dict(response.get("multiValueHeaders") or {})
    for name, value in (response.get("headers") or {}).items():
        headers_out.setdefault(name, [value])
    return response["statusCode"], json.loads(response["body"]), headers_out


def assert_error(body: dict[str, Any], code: str) -> dict[str, Any]:
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str)
    return dict(body["error"])


# --- 400: a body that is not UTF-8 or not JSON ----------------------------------------


@pytest.mark.parametrize("path", ["/auth/token", "/datasets"])
def test_a_body_that_is_not_utf8_is_400(path: str) -> None:
    status, body, _ = send("POST", path, b'{"username": "\xff\xfe"}', owner=None)
    assert status == 400
    assert "UTF-8" in assert_error(body, "bad_request")["message"]


@pytest.mark.parametrize("text", ["not json", '{"name": "x"', '{"name": NaN}', "[Infinity]"])
def test_a_body_that_is_not_json_is_400(text: str) -> None:
    status, body, _ = send("POST", "/datasets", text)
    assert status == 400
    assert "not JSON" in assert_error(body, "bad_request")["message"]


# --- 415: a content type a route does not take ------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "multipart/form-data", "multipart/form-data; boundary=x", "application/xml"],
)
@pytest.mark.parametrize("path", ["/auth/token", "/datasets"])
def test_a_content_type_other_than_json_is_415(path: str, content_type: str) -> None:
    status, body, _ = send("POST", path, '{"name": "x"}', content_type, owner=None)
    assert status == 415
    error = assert_error(body, "unsupported_media_type")
    assert error["details"]["field"] == "Content-Type"


@pytest.mark.parametrize("content_type", [None, "application/json; charset=utf-8"])
def test_json_with_or_without_its_content_type_is_taken(content_type: str | None) -> None:
    status, body, _ = send("POST", "/datasets", '{"name": "typed"}', content_type)
    assert status == 201, body


def test_a_route_without_a_body_ignores_the_content_type() -> None:
    status, body, _ = send("GET", "/datasets", None, "multipart/form-data")
    assert status == 200, body


# --- 405: a method the path does not have ------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/datasets", ["GET", "POST"]),
        ("PATCH", "/datasets/tree", ["GET"]),
        ("POST", "/datasets/tree", ["GET"]),
        ("GET", "/auth/token", ["POST"]),
        ("POST", "/datasets/" + "a" * 32, ["DELETE", "GET", "PATCH"]),
        ("HEAD", "/tasks", ["GET"]),
    ],
)
def test_a_method_the_path_lacks_is_405_with_allow(
    method: str, path: str, allowed: list[str]
) -> None:
    status, body, headers = send(method, path, None)
    assert status == 405
    assert assert_error(body, "method_not_allowed")["details"] == {"allow": allowed}
    assert headers["Allow"] == [", ".join(allowed)]


def test_a_path_no_route_has_is_still_404() -> None:
    status, body, _ = send("GET", "/nowhere", None)
    assert status == 404
    assert_error(body, "not_found")
    assert allowed_methods(app, "/nowhere") == []


@pytest.mark.parametrize("method", ["TRACE", "QUERY"])
def test_trace_and_query_through_the_gateway_are_405_with_allow(local: Any, method: str) -> None:
    answer = requests.request(method, f"{local.api_url}/datasets", timeout=30)
    assert answer.status_code == 405
    assert answer.headers["Content-Type"] == "application/json"
    error = assert_error(answer.json(), "method_not_allowed")
    assert "POST" in answer.headers["Allow"]
    assert error["details"]["allow"] == [m.strip() for m in answer.headers["Allow"].split(",")]


# --- 422: numbers out of range, naming the field -----------------------------------------


@pytest.mark.parametrize(
    "tolerance", [-1, -0.5, 1e200, 1e-320, 5e-324, 10**16, True, "1", {"int64": -1}]
)
def test_a_tolerance_out_of_range_is_422_naming_it(tolerance: Any) -> None:
    status, body = call_api("POST", "/datasets", {"name": "t", "tolerance": tolerance})
    assert status == 422
    error = assert_error(body, "validation_error")
    assert error["message"].startswith("tolerance: ")
    assert error["details"][0]["field"] == "tolerance"


@pytest.mark.parametrize(
    "tolerance", [0, 3, 0.05, 1e-12, 2.5, 10**15, {"int64": 2, "float64": 0.1}]
)
def test_a_tolerance_in_range_is_stored_and_read_back_exactly(tolerance: Any) -> None:
    status, created = call_api("POST", "/datasets", {"name": "t", "tolerance": tolerance})
    assert status == 201, created
    status, dataset = call_api("GET", f"/datasets/{created['dataset']['id']}")
    assert status == 200
    assert dataset["settings"]["tolerance"] == tolerance


def test_a_tolerance_out_of_range_is_422_when_changed_too() -> None:
    _, created = call_api("POST", "/datasets", {"name": "t"})
    dataset_id = created["dataset"]["id"]
    for path, body in (
        ("preferred-types", {"types": {}, "tolerance": 1e200}),
        ("inference", {"command": "start", "settings": {"tolerance": -1}}),
    ):
        method = "PUT" if path == "preferred-types" else "POST"
        status, answer = call_api(method, f"/datasets/{dataset_id}/{path}", body)
        assert status == 422, answer
        assert "tolerance" in assert_error(answer, "validation_error")["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"preset": "bmat_plays_per_song_per_day", "output": {"max_file_bytes": 10**40}}, "output"),
        ({"preset": "bmat_plays_per_song_per_day", "output": {"max_file_bytes": 1}}, "output"),
    ],
)
def test_task_numbers_out_of_range_are_422_naming_the_field(body: Any, field: str) -> None:
    status, answer = call_api("POST", "/datasets/" + "a" * 32 + "/tasks", body)
    assert status == 422
    assert assert_error(answer, "validation_error")["message"].startswith(f"{field}.")


# --- the OpenAPI document tells the truth -------------------------------------------------


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    status, spec = call_api("GET", "/openapi.json", owner=None)
    assert status == 200
    return [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


def test_every_operation_documents_its_success_and_errors_with_their_schemas() -> None:
    for method, path, operation in operations():
        responses = {int(status): answer for status, answer in operation["responses"].items()}
        successes = [status for status in responses if 200 <= status < 300]
        assert successes, f"{method} {path} documents no success"
        for status, answer in responses.items():
            content = answer.get("content") or {}
            if status >= 400:
                assert content == {"application/json": {"schema": {"$ref": ERROR_REF}}}, (
                    f"{method} {path} {status}: {answer}"
                )
            elif status == 204:
                assert not content, f"{method} {path} 204 declares a body"
            else:
                assert content, f"{method} {path} {status} declares no body"
                assert all(c.get("schema") is not None for c in content.values())
                assert {"$ref": ERROR_REF} not in [c["schema"] for c in content.values()]
        for status in (400, 401, 404, 413, 422):
            assert status in responses, f"{method} {path} leaves {status} out"
        if "requestBody" in operation:
            assert 415 in responses, f"{method} {path} leaves 415 out"


def test_deletes_document_204_without_a_body() -> None:
    deletes = [(path, op) for method, path, op in operations() if method == "DELETE"]
    assert deletes
    for path, operation in deletes:
        assert operation["responses"]["204"].get("content") in (None, {}), path


def test_an_empty_task_request_is_invalid_by_the_schema_as_by_the_api() -> None:
    _, spec = call_api("GET", "/openapi.json", owner=None)
    task_create = spec["components"]["schemas"]["TaskCreate"]
    assert "anyOf" in task_create  # a preset or aggregations; `{}` matches neither branch
    assert all(branch.get("required") for branch in task_create["anyOf"])
    status, body = call_api("POST", "/datasets/" + "a" * 32 + "/tasks", {})
    assert status == 422
    assert_error(body, "validation_error")


def test_sign_in_through_the_gateway_still_works(local: Any) -> None:
    answer = requests.post(
        f"{local.api_url}/auth/token",
        json={"username": DEMO_USER, "password": DEMO_PASSWORD},
        timeout=30,
    )
    assert answer.status_code == 200
