"""The one error shape: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from sluice.api.responses import json_response


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    body = ErrorResponse(error=ErrorBody(code=code, message=message, details=details))
    return json_response(status, body.model_dump_json(exclude_none=True), headers)


def describe_validation_errors(errors: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """A one-line message naming the first bad field, and every problem as details."""
    details = [
        {
            "field": ".".join(str(part) for part in err.get("loc", ()) if part != "body") or "body",
            "problem": err.get("msg", "invalid"),
        }
        for err in errors
    ]
    first = details[0] if details else {"field": "body", "problem": "invalid"}
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return f"{first['field']}: {first['problem']}{more}", details


ERROR_STATUSES = (400, 401, 404, 413, 422)
"""What any route may answer: a bad request, no or a bad token (the authorizer's), an id
not found, a body over the gateway's limit or a record over DynamoDB's 400 KB item, a value out
of range."""


def documented(
    statuses: dict[int, str | OpenAPIResponse] | None = None, *, json_body: bool = False
) -> dict[int, OpenAPIResponse]:
    """OpenAPI responses as the route answers them: its successes (200 unless it names
    another 2xx) with its return schema, 204 with no body; every error status, its own and
    those of ``ERROR_STATUSES`` (and 415 for a route with a JSON body), with the error
    envelope."""
    given: dict[int, str | OpenAPIResponse] = dict(statuses or {})
    if not any(200 <= status < 300 for status in given):
        given[200] = "OK"
    for status in (*ERROR_STATUSES, *((415,) if json_body else ())):
        given.setdefault(status, HTTPStatus(status).phrase)
    responses: dict[int, OpenAPIResponse] = {}
    for status, description in sorted(given.items()):
        if not isinstance(description, str):  # described in full by the route
            responses[status] = description
        elif status == 204:
            responses[status] = {"description": description, "content": {}}
        elif status >= 400:
            responses[status] = {
                "description": description,
                "content": {"application/json": {"model": ErrorResponse}},
            }
        else:  # Powertools fills in the route's return schema
            responses[status] = {"description": description}
    return responses


ERROR_RESPONSES = documented()
JSON_BODY_RESPONSES = documented(json_body=True)
