"""The web console's page and static files: ``GET /`` and ``GET /console/...``.

They are public (the gateway and API Gateway let them through without a token: the files
hold no data; the page signs in and sends the id token on every API call) and left out of
the OpenAPI document, which describes the API alone.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from sluice.api.errors import error_response
from sluice.console.files import StaticFile, index_page, static_file

router = APIGatewayRouter()

# The files are the console's own; what the page loads comes from the API (connect-src
# is open: uploads go straight to S3, whose address the page only learns from the API).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src *; frame-ancestors 'none'; base-uri 'self'"
    ),
    "Referrer-Policy": "no-referrer",
}


@router.get("/", include_in_schema=False)
def index() -> Response[Any]:
    """The console's page, its ``<base>`` at the API's mount point."""
    return _answer(index_page(_mount_point(router.current_event.raw_event)))


@router.get("/console/<name>", include_in_schema=False)
def console_file(name: str) -> Response[Any]:
    """A file at the top of the console's folder (``app.js``, ``console.css``)."""
    return _file(name)


@router.get("/console/<folder>/<name>", include_in_schema=False)
def console_nested_file(folder: str, name: str) -> Response[Any]:
    """A file one folder down (``pages/dataset.js``, ``vendor/chart.umd.min.js``)."""
    return _file(f"{folder}/{name}")


def _file(relative: str) -> Response[Any]:
    found = static_file(relative)
    if found is None:
        return error_response(404, "not_found", f"no console file {relative!r}")
    return _answer(found)


def _answer(found: StaticFile) -> Response[Any]:
    headers = {"Cache-Control": found.cache_control, "ETag": found.etag, **SECURITY_HEADERS}
    if found.etag in _if_none_match():
        return Response(status_code=304, body="", headers=headers)
    return Response(
        status_code=200, content_type=found.content_type, body=found.body, headers=headers
    )


def _if_none_match() -> list[str]:
    header = router.current_event.headers.get("if-none-match") or ""
    return [tag.strip().removeprefix("W/") for tag in header.split(",")]


def _mount_point(event: dict[str, Any]) -> str:
    """Where the API is mounted: for ``GET /``, API Gateway's ``requestContext.path`` is
    the whole path (``/v1/`` or ``/v1`` with a stage, a custom domain's base path, or ``/``
    on ``sluice local``)."""
    full = str((event.get("requestContext") or {}).get("path") or "/")
    return full.rstrip("/") + "/"
