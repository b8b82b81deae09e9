"""GET / and GET /console/...: the api function serves the console's files, public, with
their types and validators, and leaves them out of the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from sluice.api.console import SECURITY_HEADERS

from tests.support import api_event, invoke


def get(path: str, headers: dict[str, str] | None = None, stage_path: str | None = None) -> Any:
    event = api_event("GET", path, owner=None)  # no authorizer: these routes are public
    event["headers"] = dict(headers or {})
    event["multiValueHeaders"] = {k: [v] for k, v in (headers or {}).items()}
    if stage_path is not None:
        event["requestContext"]["path"] = stage_path
    return invoke("api", event)


def header(answer: dict[str, Any], name: str) -> str | None:
    headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
    multi = {k.lower(): v[-1] for k, v in (answer.get("multiValueHeaders") or {}).items()}
    return multi.get(name.lower(), headers.get(name.lower()))


def test_the_root_is_the_console_page_based_at_the_root_locally() -> None:
    answer = get("/")
    assert answer["statusCode"] == 200
    assert header(answer, "Content-Type") == "text/html; charset=utf-8"
    assert header(answer, "Cache-Control") == "no-cache"
    assert '<base href="/">' in answer["body"]
    assert '<script type="module" src="console/app.js"></script>' in answer["body"]


@pytest.mark.parametrize("stage_path", ["/v1/", "/v1"])
def test_behind_a_stage_the_page_is_based_at_the_stage(stage_path: str) -> None:
    # API Gateway routes on "/" but its requestContext.path keeps the stage.
    assert '<base href="/v1/">' in get("/", stage_path=stage_path)["body"]


@pytest.mark.parametrize(
    ("path", "content_type", "cache"),
    [
        ("/console/app.js", "text/javascript; charset=utf-8", "no-cache"),
        ("/console/pages/dataset.js", "text/javascript; charset=utf-8", "no-cache"),
        ("/console/console.css", "text/css; charset=utf-8", "no-cache"),
        ("/console/favicon.svg", "image/svg+xml", "no-cache"),
        (
            "/console/vendor/chart.umd.min.js",
            "text/javascript; charset=utf-8",
            "public, max-age=86400",
        ),
    ],
)
def test_static_files_have_their_type_and_caching(path: str, content_type: str, cache: str) -> None:
    answer = get(path)
    assert answer["statusCode"] == 200
    assert (header(answer, "Content-Type"), header(answer, "Cache-Control")) == (
        content_type,
        cache,
    )
    assert answer.get("isBase64Encoded") is not True  # text: no binary media type needed
    for name, value in SECURITY_HEADERS.items():
        assert header(answer, name) == value


def test_a_file_the_browser_holds_is_answered_304() -> None:
    etag = header(get("/console/app.js"), "ETag")
    assert etag
    again = get("/console/app.js", {"If-None-Match": etag})
    assert (again["statusCode"], again["body"], header(again, "ETag")) == (304, "", etag)
    assert get("/console/app.js", {"If-None-Match": '"other"'})["statusCode"] == 200


@pytest.mark.parametrize(
    "path",
    ["/console/missing.js", "/console/..%2Fapi.js", "/console/pages/..", "/console/a/b/c.js"],
)
def test_anything_not_a_console_file_is_404(path: str) -> None:
    answer = get(path)
    assert answer["statusCode"] == 404
    assert header(answer, "Content-Type") == "application/json"


def test_the_console_is_not_in_the_openapi_document() -> None:
    import json

    spec = json.loads(get("/openapi.json")["body"])
    assert not [p for p in spec["paths"] if p == "/" or p.startswith("/console")]
