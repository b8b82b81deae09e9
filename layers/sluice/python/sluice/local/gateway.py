"""The local API Gateway of ``sluice local``: a REST API, Lambda proxy integration and
Cognito user pools authorizer, so the api handler gets the same events as in AWS.

Here: which routes are open, the authorizer, the preflights, ``/health``, the 405s, and
the Lambda's call. The event is :mod:`sluice.local.gateway_event`'s to build, the reply
:mod:`sluice.local.gateway_reply`'s to translate, and the HTTP server
:mod:`sluice.local.gateway_server`'s.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol
from urllib.parse import unquote

from sluice.auth.jwt_check import TokenRejected
from sluice.local.gateway_event import Headers, proxy_event
from sluice.local.gateway_reply import (
    CORS_ORIGIN,
    BadLambdaResponse,
    Reply,
    error_reply,
    proxy_reply,
)
from sluice.local.gateway_server import GatewayServer

logger = logging.getLogger(__name__)

Invoke = Callable[[dict[str, Any]], dict[str, Any]]
# (method, exact path), or a bare path prefix open to every method.
PublicRoute = tuple[str, str] | str
# The gateway's own route (not the api function's): 200 once the system is ready, else 503.
HEALTH_PATH = "/health"

DEFAULT_PUBLIC_ROUTES: frozenset[PublicRoute] = frozenset(
    {
        ("POST", "/auth/token"),
        ("POST", "/auth/refresh"),
        ("GET", "/docs"),
        "/docs/",
        ("GET", "/openapi.json"),
        ("GET", HEALTH_PATH),
        # The web console's page and files (sluice.api.console): they hold no data.
        ("GET", "/"),
        "/console/",
    }
)
# Lambda's synchronous payload limit; API Gateway's own (10 MB) is never the binding one.
MAX_BODY_BYTES = 6 * 1024 * 1024
_PREFLIGHT_HEADERS = [
    CORS_ORIGIN,
    ("Access-Control-Allow-Headers", "Authorization,Content-Type"),
    ("Access-Control-Allow-Methods", "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"),
    ("Access-Control-Max-Age", "600"),
]
# The methods an ANY method on /{proxy+} takes; API Gateway answers any other itself.
GATEWAY_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


class TokenVerifier(Protocol):
    """Checks a bearer token: returns its claims or raises ``TokenRejected``."""

    def verify(self, token: str) -> Mapping[str, str]: ...


def _method_not_allowed(method: str) -> Reply:
    allow = ", ".join(GATEWAY_METHODS)
    status, headers, body = error_reply(
        405,
        "method_not_allowed",
        f"{method} is not a method this API takes; allowed: {allow}",
        {"allow": list(GATEWAY_METHODS)},
    )
    return status, [*headers, ("Allow", allow)], body


class LocalApiGateway:
    """An HTTP server on 127.0.0.1 that fronts ``invoke`` like API Gateway does.

    ``port=0`` picks a free port; ``url`` tells which. Routes not in
    ``public_routes`` need a Cognito JWT (``Authorization: Bearer <jwt>`` or the bare
    token), checked by ``verifier``; its claims reach the event under
    ``requestContext.authorizer.claims``.
    """

    def __init__(
        self,
        *,
        invoke: Invoke,
        verifier: TokenVerifier,
        port: int = 0,
        public_routes: Iterable[PublicRoute] = DEFAULT_PUBLIC_ROUTES,
        max_body_bytes: int = MAX_BODY_BYTES,
        ready: bool = True,
    ) -> None:
        self.invoke = invoke
        self.verifier = verifier
        self.public_routes = frozenset(public_routes)
        self.max_body_bytes = max_body_bytes
        self._server = GatewayServer(("127.0.0.1", port), self)
        self._thread: threading.Thread | None = None
        # Until set, every route but /health answers 503 (sluice local: provisioning, restore).
        self._ready = threading.Event()
        if ready:
            self._ready.set()

    def mark_ready(self) -> None:
        """Answer every route from now on (GET /health: 200)."""
        self._ready.set()

    @property
    def port(self) -> int:
        """The port the server is bound to."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL of the API, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalApiGateway:
        """Serve requests on a daemon thread; returns self."""
        if self._thread is None:
            self._server.slow_requests.start()
            # A short poll keeps stop() quick; the default 0.5 s makes every stop cost that.
            self._thread = threading.Thread(
                target=self._server.serve_forever, args=(0.05,), name="sluice-gateway", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
            self._server.slow_requests.stop()
        self._server.server_close()

    def __enter__(self) -> LocalApiGateway:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def is_public(self, method: str, path: str) -> bool:
        """Whether ``method path`` is served without a token."""
        if method == "HEAD":
            method = "GET"
        for route in self.public_routes:
            if isinstance(route, str):
                # A prefix must not open a way out of itself with dot segments.
                segments = unquote(path).split("/")
                if path.startswith(route) and "." not in segments and ".." not in segments:
                    return True
            elif route == (method, path):
                return True
        return False

    def handle(
        self, method: str, target: str, headers: Headers, body: bytes, ip: str, request_id: str
    ) -> Reply:
        """Answer one request whose body has been read: authorize, invoke, translate."""
        if method not in GATEWAY_METHODS:  # TRACE, QUERY ...: they never reach the Lambda
            return _method_not_allowed(method)
        if method == "OPTIONS":
            # A CORS-enabled API Gateway answers OPTIONS with a mock integration.
            return 204, list(_PREFLIGHT_HEADERS), b""
        event = proxy_event(method, target, headers, body, ip, request_id)
        if not self._ready.is_set() or event["path"] == HEALTH_PATH:
            return _health(method, event["path"], self._ready.is_set())
        if not self.is_public(method, event["path"]):
            token = _bearer_token(headers)
            if not token:
                return error_reply(401, "unauthorized", "missing bearer token")
            try:
                claims = dict(self.verifier.verify(token))
            except TokenRejected as exc:
                return error_reply(401, "unauthorized", exc.reason)
            except Exception as exc:
                logger.exception("the authorizer failed")
                return error_reply(500, "internal_error", f"authorizer failed: {exc}")
            event["requestContext"]["authorizer"] = {"claims": claims}
        try:
            result = self.invoke(event)
        except Exception as exc:
            logger.exception("the api Lambda failed on %s %s", method, event["path"])
            return error_reply(502, "bad_gateway", f"the Lambda function failed: {exc}")
        try:
            return proxy_reply(result)
        except BadLambdaResponse as exc:
            logger.error("malformed Lambda proxy response: %s", exc)
            return error_reply(502, "bad_gateway", f"malformed Lambda proxy response: {exc}")


def _health(method: str, path: str, ready: bool) -> Reply:
    """GET /health, and what every route answers before the system is ready."""
    if not ready:
        status, headers, body = error_reply(
            503, "starting", "sluice local is starting; GET /health answers 200 once it is ready"
        )
        return status, [*headers, ("Retry-After", "1")], body
    if method not in ("GET", "HEAD"):
        return error_reply(405, "method_not_allowed", f"{path} takes GET only")
    return 200, [("Content-Type", "application/json")], b'{"status":"ok"}'


def _bearer_token(headers: Headers) -> str:
    value = next((v for k, v in headers if k.lower() == "authorization"), "").strip()
    scheme, _, rest = value.partition(" ")
    # The Cognito authorizer takes the header as the token; clients mostly send "Bearer".
    return rest.strip() if scheme.lower() == "bearer" else value
