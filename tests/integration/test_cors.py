"""CORS from the api Lambda itself (issue 22, item 3): with a Lambda proxy integration API
Gateway passes the function's headers as they are, so a page on another origin can read
an answer only if the api put ``Access-Control-Allow-Origin`` on it."""

from __future__ import annotations

from typing import Any

import requests
from sluice.api.app import cors_config
from sluice.local.system import DEMO_PASSWORD, DEMO_USER

from tests.support import api_event, invoke

PAGE = "https://console.example.org"


def _answer(origin: str | None, path: str = "/datasets") -> dict[str, Any]:
    """The api handler's answer to ``GET path`` with the headers API Gateway passes."""
    event = api_event("GET", path)
    headers = dict(event.get("headers") or {})
    headers.pop("Origin", None)
    if origin is not None:
        headers["origin"] = origin  # API Gateway passes the name as the browser sent it
    event["headers"] = headers
    event["multiValueHeaders"] = {name: [value] for name, value in headers.items()}
    answer: dict[str, Any] = invoke("api", event)
    return answer


def _cors(answer: dict[str, Any]) -> dict[str, str]:
    # Powertools answers REST events in multiValueHeaders; API Gateway merges both.
    single = answer.get("headers") or {}
    multi = {
        name: ",".join(values) for name, values in (answer.get("multiValueHeaders") or {}).items()
    }
    return {
        name: value for name, value in {**single, **multi}.items() if name.startswith("Access-")
    }


def test_the_handler_answers_a_cross_origin_request_with_cors_headers(local: Any) -> None:
    answer = _answer(PAGE)
    assert answer["statusCode"] == 200
    headers = _cors(answer)
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in headers  # never with "*"


def test_errors_carry_them_too_and_a_same_origin_request_gets_none(local: Any) -> None:
    missing = _answer(PAGE, "/datasets/" + "0" * 32)
    assert missing["statusCode"] == 404
    assert _cors(missing)["Access-Control-Allow-Origin"] == "*"
    assert _cors(_answer(None)) == {}


def test_a_deployment_that_names_its_origins_allows_those_alone() -> None:
    config = cors_config("https://a.example, https://b.example")
    assert config.allowed_origin("https://b.example") == "https://b.example"
    assert config.allowed_origin("https://evil.example") is None
    assert config.to_dict("https://a.example")["Access-Control-Allow-Origin"] == "https://a.example"
    assert cors_config("").allowed_origin("https://any.example") == "*"


def test_a_page_on_another_origin_reads_the_local_system_end_to_end(local: Any) -> None:
    api = local.api_url
    preflight = requests.options(
        f"{api}/datasets",
        headers={
            "Origin": PAGE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
        timeout=10,
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    tokens = requests.post(
        f"{api}/auth/token",
        json={"username": DEMO_USER, "password": DEMO_PASSWORD},
        headers={"Origin": PAGE},
        timeout=10,
    )
    assert tokens.headers["Access-Control-Allow-Origin"] == "*"
    listed = requests.get(
        f"{api}/datasets",
        headers={"Origin": PAGE, "Authorization": f"Bearer {tokens.json()['id_token']}"},
        timeout=10,
    )
    assert listed.status_code == 200
    # One header, the api's own: the local gateway adds none to the Lambda's answers.
    assert listed.headers["Access-Control-Allow-Origin"] == "*"
    assert "Retry-After" in listed.headers["Access-Control-Expose-Headers"]
