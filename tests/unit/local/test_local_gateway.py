"""LocalApiGateway over real HTTP, in front of a fake api Lambda that records its events."""

from __future__ import annotations

import base64
import http.client
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
import requests
from sluice.auth.jwt_check import TokenRejected
from sluice.local.gateway import MAX_BODY_BYTES, LocalApiGateway

CLAIMS = {"sub": "user-1", "token_use": "id", "cognito:username": "alice"}
AUTH = {"Authorization": "Bearer good"}
OK = {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"ok": true}'}


class FakeVerifier:
    def verify(self, token: str) -> Mapping[str, str]:
        if token == "good":
            return CLAIMS
        if token == "boom":
            raise RuntimeError("jwks unreachable")
        raise TokenRejected("token expired")


class FakeLambda:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.respond: Callable[[dict[str, Any]], Any] = lambda event: OK

    def __call__(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        return self.respond(event)


@pytest.fixture
def fn() -> FakeLambda:
    return FakeLambda()


@pytest.fixture
def gateway(fn: FakeLambda) -> Iterator[LocalApiGateway]:
    with LocalApiGateway(invoke=fn, verifier=FakeVerifier()) as gw:
        yield gw


def raw_request(
    gw: LocalApiGateway, method: str, target: str, headers: list[tuple[str, str]]
) -> tuple[int, bytes]:
    """Send exactly this request line and these headers (requests would normalise them)."""
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=5)
    conn.putrequest(method, target, skip_accept_encoding=True)
    for name, value in headers:
        conn.putheader(name, value)
    conn.endheaders()
    response = conn.getresponse()
    result = response.status, response.read()
    conn.close()
    return result


def error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def test_authorized_request_returns_the_lambda_response(gateway) -> None:
    r = requests.get(f"{gateway.url}/datasets", headers=AUTH)
    assert (r.status_code, r.json(), r.headers["Content-Type"]) == (
        200,
        {"ok": True},
        "application/json",
    )


def test_event_has_the_rest_api_proxy_shape(gateway, fn) -> None:
    requests.get(f"{gateway.url}/datasets/d1?x=1&x=2&y=a+b%2B", headers=AUTH)
    event = fn.events[0]
    context = event.pop("requestContext")
    headers, multi_headers = event.pop("headers"), event.pop("multiValueHeaders")
    assert event == {
        "resource": "/{proxy+}",
        "path": "/datasets/d1",
        "httpMethod": "GET",
        "queryStringParameters": {"x": "2", "y": "a b+"},
        "multiValueQueryStringParameters": {"x": ["1", "2"], "y": ["a b+"]},
        "pathParameters": {"proxy": "datasets/d1"},
        "stageVariables": None,
        "body": None,
        "isBase64Encoded": False,
    }
    assert headers["Authorization"] == "Bearer good"
    assert multi_headers == {name: [value] for name, value in headers.items()}
    assert isinstance(context.pop("requestId"), str)
    assert isinstance(context.pop("requestTimeEpoch"), int)
    assert context.pop("extendedRequestId") and context.pop("requestTime")
    identity = context.pop("identity")
    assert (identity["sourceIp"], identity["userAgent"]) == ("127.0.0.1", headers["User-Agent"])
    assert context == {
        "resourceId": "local",
        "resourcePath": "/{proxy+}",
        "httpMethod": "GET",
        "path": "/datasets/d1",
        "accountId": "123456789012",
        "protocol": "HTTP/1.1",
        "stage": "local",
        "domainName": f"127.0.0.1:{gateway.port}",
        "apiId": "local",
        "authorizer": {"claims": CLAIMS},
    }


def test_request_id_header_matches_the_event(gateway, fn) -> None:
    r = requests.get(f"{gateway.url}/datasets", headers=AUTH)
    assert r.headers["x-amzn-RequestId"] == fn.events[0]["requestContext"]["requestId"]


def test_no_query_string_gives_null_parameters(gateway, fn) -> None:
    requests.get(f"{gateway.url}/datasets", headers=AUTH)
    event = fn.events[0]
    assert (event["queryStringParameters"], event["multiValueQueryStringParameters"]) == (
        None,
        None,
    )


def test_root_path_uses_the_root_resource(gateway, fn) -> None:
    requests.get(f"{gateway.url}/", headers=AUTH)
    event = fn.events[0]
    assert (event["resource"], event["path"], event["pathParameters"]) == ("/", "/", None)


def test_repeated_header_keeps_every_value_in_multi_value_headers(gateway, fn) -> None:
    headers = [("Authorization", "Bearer good"), ("X-Tag", "a"), ("X-Tag", "b")]
    raw_request(gateway, "GET", "/datasets", headers)
    event = fn.events[0]
    assert (event["headers"]["X-Tag"], event["multiValueHeaders"]["X-Tag"]) == ("b", ["a", "b"])


def test_percent_encoded_path_stays_encoded_and_proxy_is_decoded(gateway, fn) -> None:
    requests.get(f"{gateway.url}/datasets/a%20b", headers=AUTH)
    event = fn.events[0]
    assert (event["path"], event["pathParameters"]) == (
        "/datasets/a%20b",
        {"proxy": "datasets/a b"},
    )


def test_utf8_body_is_passed_as_text(gateway, fn) -> None:
    requests.post(f"{gateway.url}/datasets", headers=AUTH, data='{"name": "café"}'.encode())
    event = fn.events[0]
    assert (event["body"], event["isBase64Encoded"]) == ('{"name": "café"}', False)


def test_binary_body_is_passed_base64_encoded(gateway, fn) -> None:
    requests.put(f"{gateway.url}/datasets/d1/data", headers=AUTH, data=b"\xff\x00\xfe")
    event = fn.events[0]
    assert (event["body"], event["isBase64Encoded"]) == ("/wD+", True)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_every_method_reaches_the_lambda(gateway, fn, method) -> None:
    r = requests.request(method, f"{gateway.url}/datasets/d1", headers=AUTH)
    assert (r.status_code, fn.events[0]["httpMethod"]) == (200, method)


def test_head_answers_headers_without_a_body(gateway, fn) -> None:
    r = requests.head(f"{gateway.url}/datasets", headers=AUTH)
    assert (r.status_code, r.content, r.headers["Content-Length"]) == (200, b"", "12")
    assert fn.events[0]["httpMethod"] == "HEAD"


def test_bare_token_without_bearer_is_accepted(gateway, fn) -> None:
    r = requests.get(f"{gateway.url}/datasets", headers={"Authorization": "good"})
    assert (r.status_code, fn.events[0]["requestContext"]["authorizer"]) == (
        200,
        {"claims": CLAIMS},
    )


def test_missing_token_answers_401_without_invoking(gateway, fn) -> None:
    r = requests.get(f"{gateway.url}/datasets")
    assert (r.status_code, r.json(), r.headers["Content-Type"]) == (
        401,
        error("unauthorized", "missing bearer token"),
        "application/json",
    )
    assert fn.events == []


def test_rejected_token_answers_401_with_the_reason(gateway, fn) -> None:
    r = requests.get(f"{gateway.url}/datasets", headers={"Authorization": "Bearer old"})
    assert (r.status_code, r.json()) == (401, error("unauthorized", "token expired"))
    assert fn.events == []


def test_failing_verifier_answers_500_without_invoking(gateway, fn) -> None:
    r = requests.get(f"{gateway.url}/datasets", headers={"Authorization": "Bearer boom"})
    assert (r.status_code, r.json()) == (
        500,
        error("internal_error", "authorizer failed: jwks unreachable"),
    )
    assert fn.events == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/auth/token"),
        ("POST", "/auth/refresh"),
        ("GET", "/docs"),
        ("GET", "/docs/swagger-ui.css"),
        ("GET", "/openapi.json"),
        ("GET", "/"),
        ("GET", "/console/app.js"),
        ("GET", "/console/pages/dataset.js"),
    ],
)
def test_public_route_needs_no_token_and_has_no_authorizer(gateway, fn, method, path) -> None:
    r = requests.request(method, gateway.url + path)
    assert (r.status_code, "authorizer" in fn.events[0]["requestContext"]) == (200, False)


def test_public_path_with_another_method_needs_a_token(gateway, fn) -> None:
    assert requests.get(f"{gateway.url}/auth/token").status_code == 401


@pytest.mark.parametrize("path", ["/docs/../datasets", "/console/../datasets"])
def test_dot_segments_do_not_escape_a_public_prefix(gateway, fn, path) -> None:
    status, _ = raw_request(gateway, "GET", path, [])
    assert (status, fn.events) == (401, [])


def test_only_the_root_itself_is_public_not_what_is_under_it(gateway, fn) -> None:
    assert requests.post(f"{gateway.url}/").status_code == 401
    assert requests.get(f"{gateway.url}/datasets").status_code == 401


def test_custom_public_routes_replace_the_defaults(fn) -> None:
    with LocalApiGateway(invoke=fn, verifier=FakeVerifier(), public_routes={"/open/"}) as gw:
        assert requests.get(f"{gw.url}/open/x").status_code == 200
        assert requests.post(f"{gw.url}/auth/token").status_code == 401


def test_base64_response_body_is_decoded(gateway, fn) -> None:
    data = b"\x89PNG\x00"
    fn.respond = lambda event: {
        "statusCode": 200,
        "headers": {"Content-Type": "image/png"},
        "body": base64.b64encode(data).decode(),
        "isBase64Encoded": True,
    }
    r = requests.get(f"{gateway.url}/img", headers=AUTH)
    assert (r.content, r.headers["Content-Type"]) == (data, "image/png")


def test_headers_and_multi_value_headers_are_merged(gateway, fn) -> None:
    fn.respond = lambda event: {
        "statusCode": 201,
        "headers": {"X-One": "1", "Set-Cookie": "lost=1"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": "",
    }
    r = requests.post(f"{gateway.url}/datasets", headers=AUTH)
    assert (r.status_code, r.headers["X-One"], r.raw.headers.getlist("Set-Cookie")) == (
        201,
        "1",
        ["a=1", "b=2"],
    )


def test_response_without_content_type_defaults_to_json(gateway, fn) -> None:
    fn.respond = lambda event: {"statusCode": 200, "body": "{}"}
    r = requests.get(f"{gateway.url}/datasets", headers=AUTH)
    assert r.headers["Content-Type"] == "application/json"


def test_lambda_exception_answers_502(gateway, fn) -> None:
    def fail(event: dict[str, Any]) -> Any:
        raise ValueError("kaput")

    fn.respond = fail
    r = requests.get(f"{gateway.url}/datasets", headers=AUTH)
    assert (r.status_code, r.json()) == (
        502,
        error("bad_gateway", "the Lambda function failed: kaput"),
    )


@pytest.mark.parametrize(
    ("response", "why"),
    [
        (None, "expected an object, got NoneType"),
        ({"body": "{}"}, "statusCode None is not an HTTP status"),
        ({"statusCode": 200, "body": {"a": 1}}, "body must be a string, got dict"),
        ({"statusCode": 200, "headers": ["x"]}, "headers and multiValueHeaders must be objects"),
        ({"statusCode": 200, "headers": {"X": "a\r\nB: c"}}, "header 'X' contains a line break"),
    ],
)
def test_malformed_lambda_response_answers_502(gateway, fn, response, why) -> None:
    fn.respond = lambda event: response
    r = requests.get(f"{gateway.url}/datasets", headers=AUTH)
    assert (r.status_code, r.json()) == (
        502,
        error("bad_gateway", f"malformed Lambda proxy response: {why}"),
    )


def test_body_over_6_mb_answers_413_without_invoking(gateway, fn) -> None:
    r = requests.post(f"{gateway.url}/datasets", headers=AUTH, data=b"x" * (MAX_BODY_BYTES + 1))
    assert (r.status_code, r.json()) == (
        413,
        error("payload_too_large", f"the body exceeds {MAX_BODY_BYTES} bytes"),
    )
    assert fn.events == []


def test_body_of_exactly_6_mb_is_accepted(gateway, fn) -> None:
    r = requests.post(f"{gateway.url}/datasets", headers=AUTH, data=b"x" * MAX_BODY_BYTES)
    assert (r.status_code, len(fn.events[0]["body"])) == (200, MAX_BODY_BYTES)


def test_options_preflight_is_answered_without_token_or_invoke(gateway, fn) -> None:
    r = requests.options(
        f"{gateway.url}/datasets/d1",
        headers={"Origin": "http://x", "Access-Control-Request-Method": "DELETE"},
    )
    assert r.status_code == 204
    assert {name: r.headers[name] for name in r.headers if name.startswith("Access-")} == {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Headers": "Authorization,Content-Type",
        "Access-Control-Allow-Methods": "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS",
        "Access-Control-Max-Age": "600",
    }
    assert fn.events == []


def test_the_gateways_own_answers_allow_any_origin(gateway) -> None:
    r = requests.get(f"{gateway.url}/datasets")  # its 401, as API Gateway's gateway responses
    assert (r.status_code, r.headers["Access-Control-Allow-Origin"]) == (401, "*")


def test_the_lambdas_answers_carry_its_own_cors_headers_alone(gateway, fn) -> None:
    # A proxy integration passes the Lambda's headers as they are (the api adds its own).
    r = requests.get(f"{gateway.url}/datasets", headers={**AUTH, "Origin": "https://x.example"})
    assert r.status_code == 200
    assert "Access-Control-Allow-Origin" not in r.headers


def test_each_request_logs_one_info_line(gateway, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="sluice.local.gateway"):
        requests.get(f"{gateway.url}/datasets?x=1", headers=AUTH)
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert len(lines) == 1 and lines[0].startswith("GET /datasets?x=1 200 ")


def test_port_zero_binds_a_free_local_port(gateway) -> None:
    assert gateway.port > 0 and gateway.url == f"http://127.0.0.1:{gateway.port}"


def test_stopped_gateway_refuses_connections(fn) -> None:
    gw = LocalApiGateway(invoke=fn, verifier=FakeVerifier()).start()
    url = gw.url
    gw.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/datasets", headers=AUTH, timeout=2)
