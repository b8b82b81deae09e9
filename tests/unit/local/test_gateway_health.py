"""The local gateway's GET /health, and its answers before the system is ready."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from sluice.local.gateway import DEFAULT_PUBLIC_ROUTES, HEALTH_PATH, LocalApiGateway


class Verifier:
    def verify(self, token: str) -> Mapping[str, str]:
        return {"sub": "someone"}


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": 200, "body": '{"from": "the api function"}'}


def test_every_route_is_503_until_ready_then_health_is_200() -> None:
    with LocalApiGateway(invoke=invoke, verifier=Verifier(), ready=False) as gateway:
        for path in (HEALTH_PATH, "/openapi.json", "/datasets"):
            answer = requests.get(f"{gateway.url}{path}", timeout=10)
            assert answer.status_code == 503, path
            assert answer.json()["error"]["code"] == "starting"
            assert answer.headers["Retry-After"] == "1"
        gateway.mark_ready()
        health = requests.get(f"{gateway.url}{HEALTH_PATH}", timeout=10)
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        spec = requests.get(f"{gateway.url}/openapi.json", timeout=10)
        assert spec.json() == {"from": "the api function"}
        assert requests.post(f"{gateway.url}{HEALTH_PATH}", timeout=10).status_code == 405


def test_health_is_a_public_route() -> None:
    assert ("GET", HEALTH_PATH) in DEFAULT_PUBLIC_ROUTES
