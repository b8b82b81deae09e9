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


def error_response(status: int, code: str, message: str, details: Any = None) -> Response[Any]:
    body = ErrorResponse(error=ErrorBody(code=code, message=message, details=details))
    return json_response(status, body.model_dump_json(exclude_none=True))


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


def documented(statuses: dict[int, str] | None = None) -> dict[int, OpenAPIResponse]:
    """OpenAPI responses: the given successes plus the error statuses every route may answer."""
    responses: dict[int, OpenAPIResponse] = {
        status: {"description": description} for status, description in (statuses or {}).items()
    }
    for status in (400, 401, 404, 422):
        responses[status] = {
            "description": HTTPStatus(status).phrase,
            "content": {"application/json": {"model": ErrorResponse}},
        }
    return responses


ERROR_RESPONSES = documented()
