"""An HTTP request as the event API Gateway's REST API (payload 1.0) hands a Lambda proxy
integration of a ``/{proxy+}`` resource, as the local gateway builds it."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

Headers = list[tuple[str, str]]

_IDENTITY_KEYS = (  # noqa: SIM905 - a list literal would take twelve lines
    "cognitoIdentityPoolId accountId cognitoIdentityId caller principalOrgId accessKey"
    " cognitoAuthenticationType cognitoAuthenticationProvider userArn user"
).split()


def proxy_event(
    method: str, target: str, headers: Headers, body: bytes, ip: str, request_id: str
) -> dict[str, Any]:
    """Build the API Gateway REST (payload 1.0) proxy event of a ``/{proxy+}`` resource."""
    if not target.startswith("/"):
        target = urlsplit(target).path or "/"  # absolute-form request target
    path, _, query = target.partition("?")
    path = path.partition("#")[0] or "/"
    # The root does not match /{proxy+}; API Gateway routes it to the "/" resource.
    resource = "/" if path == "/" else "/{proxy+}"
    single_headers, multi_headers = _fold(headers)
    single_query, multi_query = _fold(parse_qsl(query, keep_blank_values=True))
    text: str | None = None
    is_b64 = False
    if body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text, is_b64 = base64.b64encode(body).decode("ascii"), True
    lower = {name.lower(): value for name, value in headers}
    now = time.time()
    identity: dict[str, Any] = dict.fromkeys(_IDENTITY_KEYS)
    identity.update(sourceIp=ip, userAgent=lower.get("user-agent"))
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": single_headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": single_query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": None if resource == "/" else {"proxy": unquote(path[1:])},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": path,
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": "local",
            "domainName": lower.get("host", "127.0.0.1"),
            "requestTimeEpoch": int(now * 1000),
            "requestId": request_id,
            "identity": identity,
            "apiId": "local",
        },
        "body": text,
        "isBase64Encoded": is_b64,
    }


def _fold(
    pairs: Iterable[tuple[str, str]],
) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    # API Gateway keeps the last value in the single-value map and sends null, not {}.
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return (single or None), (multi or None)


__all__ = ["Headers", "proxy_event"]
