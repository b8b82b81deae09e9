"""The local gateway answers a method API Gateway does not take (TRACE, QUERY ...) as 405
in the one error shape with Allow, without invoking the Lambda, not with http.server's
HTML 501."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from sluice.local.gateway import GATEWAY_METHODS, LocalApiGateway

from tests.unit.local.test_local_gateway import AUTH, FakeLambda, FakeVerifier, raw_request


@pytest.fixture
def gateway_and_fn() -> Any:
    fn = FakeLambda()
    with LocalApiGateway(invoke=fn, verifier=FakeVerifier()) as gw:
        yield gw, fn


@pytest.mark.parametrize("method", ["TRACE", "QUERY", "CONNECT", "PROPFIND"])
def test_a_method_the_gateway_does_not_take_is_405_with_allow(gateway_and_fn, method) -> None:
    gateway, fn = gateway_and_fn
    answer = requests.request(method, f"{gateway.url}/datasets", headers=AUTH, timeout=5)
    assert answer.status_code == 405
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["Allow"] == ", ".join(GATEWAY_METHODS)
    error = answer.json()["error"]
    assert error["code"] == "method_not_allowed"
    assert error["details"] == {"allow": list(GATEWAY_METHODS)}
    assert fn.events == []


def test_query_with_a_body_is_405_and_the_connection_stays_usable(gateway_and_fn) -> None:
    gateway, fn = gateway_and_fn
    with requests.Session() as session:
        first = session.request("QUERY", f"{gateway.url}/datasets", data=b'{"q": 1}', timeout=5)
        second = session.get(f"{gateway.url}/datasets", headers=AUTH, timeout=5)
    assert (first.status_code, second.status_code) == (405, 200)
    assert len(fn.events) == 1


def test_405_comes_before_the_token_check(gateway_and_fn) -> None:
    gateway, _ = gateway_and_fn
    status, body = raw_request(gateway, "TRACE", "/datasets", [])
    assert status == 405
    assert json.loads(body)["error"]["code"] == "method_not_allowed"
