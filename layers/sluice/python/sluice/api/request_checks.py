"""What a request must be before its route's parameters are validated: a method the path
has (405 with Allow), and for a JSON route a JSON body (415 for another content type, 400
for a body not UTF-8 or not JSON), so that no malformed request is a server error."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)

from sluice.errors import BadRequest, SluiceError, UnsupportedMediaType

JSON_MEDIA_TYPE = "application/json"


def media_type(content_type: str | None) -> str:
    """``Content-Type``'s media type, lower case, without its parameters ("" when absent)."""
    return (content_type or "").partition(";")[0].strip().lower()


def takes_json(content_type: str | None) -> bool:
    """Whether a JSON route takes a body of this ``Content-Type`` (none means JSON)."""
    kind = media_type(content_type)
    return kind in ("", JSON_MEDIA_TYPE) or (
        kind.startswith("application/") and kind.endswith("+json")
    )


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json_body(body: str | None, is_base64: bool) -> Any:
    """The body as JSON data (None when empty); ``BadRequest`` when it is not UTF-8 or not
    JSON (NaN and Infinity, which Python's parser takes, are not JSON)."""
    if not body:
        return None
    if is_base64:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequest("the body is marked base64 but is not") from exc
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(
                f"the body is not UTF-8: byte {exc.start} is invalid",
                {"field": "body", "problem": "not UTF-8"},
            ) from exc
    try:
        return json.loads(body, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            {"field": "body", "problem": "not JSON"},
        ) from exc
    except (ValueError, RecursionError) as exc:  # a constant, a number too long, deep nesting
        raise BadRequest(
            f"the body is not JSON: {exc}", {"field": "body", "problem": "not JSON"}
        ) from exc


class MethodNotAllowed(SluiceError):
    status = 405
    code = "method_not_allowed"

    def __init__(self, method: str, path: str, allowed: list[str]) -> None:
        self.allow = ", ".join(allowed)
        super().__init__(
            f"{method} is not allowed on {path}; allowed: {self.allow}", {"allow": allowed}
        )


def allowed_methods(app: Any, path: str) -> list[str]:
    """The methods served at ``path``: those of the fixed paths matching it if any (so
    /datasets/tree is not /datasets/{dataset_id}), else those of the templates matching it."""
    for routes in (app._static_routes, app._dynamic_routes):  # Powertools' order of matching
        methods = {route.method.upper() for route in routes if route.rule.match(path)}
        if methods:
            return sorted(methods)
    return []


class RequestChecks(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, after a 405 for a method a fixed path lacks (a
    template's route would take it and fail its path's validation) and with the body read
    by :func:`parse_json_body` after a 415 for any ``Content-Type`` but JSON (Powertools
    would try forms and multipart, and fail with a server error on a body that is not UTF-8
    or a multipart type without boundary)."""

    def handler(self, app: Any, next_middleware: Any) -> Response[Any]:
        method, path = app.current_event.http_method.upper(), app.current_event.path
        allowed = allowed_methods(app, path)
        if allowed and method not in allowed:  # no path at all: the not-found route's 404
            raise MethodNotAllowed(method, path, allowed)
        return super().handler(app, next_middleware)

    def _get_body(self, app: Any) -> Any:
        event = app.current_event
        content_type = event.headers.get("content-type")
        if not takes_json(content_type):
            raise UnsupportedMediaType(
                f"this route takes {JSON_MEDIA_TYPE}, not {media_type(content_type)}",
                {"field": "Content-Type", "allowed": [JSON_MEDIA_TYPE]},
            )
        return parse_json_body(event.body, event.is_base64_encoded)
