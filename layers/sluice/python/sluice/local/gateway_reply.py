"""The local gateway's answers: a Lambda proxy integration's reply turned into an HTTP
one as API Gateway turns it, and the gateway's own error answers."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from sluice.local.gateway_event import Headers

Reply = tuple[int, Headers, bytes]

CORS_ORIGIN = ("Access-Control-Allow-Origin", "*")
# The server computes framing itself; a Lambda's values for these would corrupt it.
_HOP_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})


class BadLambdaResponse(Exception):
    """The Lambda's answer is not a proxy integration's response (API Gateway's 502)."""


class LambdaReply(tuple[int, Headers, bytes]):
    """A reply the api Lambda made. The gateway adds no CORS header to it: with a proxy
    integration API Gateway passes the Lambda's headers as they are, so the api answers
    with its own (Powertools' CORS configuration, ``sluice.api.app``), as it must in AWS.
    The gateway's own answers (preflights, its 401s, 413s, 503s) carry ``*``, as API
    Gateway's gateway responses do."""


def error_reply(status: int, code: str, message: str, details: Any = None) -> Reply:
    """One of the gateway's own answers: the API's error shape, as JSON."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    body = json.dumps({"error": error}).encode()
    return status, [("Content-Type", "application/json")], body


def proxy_reply(result: Any) -> Reply:
    """The HTTP reply of a proxy integration's ``result``; :class:`BadLambdaResponse`
    where it is not one."""
    if not isinstance(result, dict):
        raise BadLambdaResponse(f"expected an object, got {type(result).__name__}")
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599:
        raise BadLambdaResponse(f"statusCode {status!r} is not an HTTP status")
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise BadLambdaResponse("headers and multiValueHeaders must be objects")
    # Like API Gateway: a name in multiValueHeaders wins over the same name in headers.
    taken = {name.lower() for name in multi}
    merged = [(k, v) for k, v in single.items() if k.lower() not in taken]
    for name, values in multi.items():
        if not isinstance(values, list):
            raise BadLambdaResponse(f"multiValueHeaders[{name!r}] must be a list")
        merged.extend((name, value) for value in values)
    out: Headers = []
    for name, value in merged:
        if not isinstance(value, str | int | float | bool):
            raise BadLambdaResponse(f"header {name!r} has a non-scalar value")
        if any(c in f"{name}{value}" for c in "\r\n"):  # would split the response
            raise BadLambdaResponse(f"header {name!r} contains a line break")
        if name.lower() not in _HOP_HEADERS:
            out.append((str(name), str(value)))
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise BadLambdaResponse(f"body must be a string, got {type(body).__name__}")
    raw = (body or "").encode("utf-8")
    if result.get("isBase64Encoded") and body:
        try:
            raw = base64.b64decode(body, validate=True)
        except binascii.Error as exc:
            raise BadLambdaResponse("isBase64Encoded but the body is not base64") from exc
    if not any(name.lower() == "content-type" for name, _ in out):
        out.append(("Content-Type", "application/json"))  # API Gateway's default
    return LambdaReply((status, out, raw))


__all__ = [
    "CORS_ORIGIN",
    "BadLambdaResponse",
    "LambdaReply",
    "Reply",
    "error_reply",
    "proxy_reply",
]
