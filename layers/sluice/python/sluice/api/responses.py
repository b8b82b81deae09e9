"""JSON responses with a status of the route's choosing."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[Any]:
    """``body`` (a model, plain data, or "" for none) as JSON with ``status``."""
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers=headers,
    )
