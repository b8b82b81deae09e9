"""The local API Gateway of ``sluice local``: a REST API, Lambda proxy integration and
Cognito user pools authorizer, so the api handler gets the same events as in AWS."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from sluice.auth.jwt_check import TokenRejected

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
_DRAIN_LIMIT = 64 * 1024 * 1024
_CORS_ORIGIN = ("Access-Control-Allow-Origin", "*")
_PREFLIGHT_HEADERS = [
    _CORS_ORIGIN,
    ("Access-Control-Allow-Headers", "Authorization,Content-Type"),
    ("Access-Control-Allow-Methods", "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"),
    ("Access-Control-Max-Age", "600"),
]
# The methods an ANY method on /{proxy+} takes; API Gateway answers any other itself.
GATEWAY_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
# The server computes framing itself; a Lambda's values for these would corrupt it.
_HOP_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})
_IDENTITY_KEYS = (  # noqa: SIM905 - a list literal would take twelve lines
    "cognitoIdentityPoolId accountId cognitoIdentityId caller principalOrgId accessKey"
    " cognitoAuthenticationType cognitoAuthenticationProvider userArn user"
).split()


class TokenVerifier(Protocol):
    """Checks a bearer token: returns its claims or raises ``TokenRejected``."""

    def verify(self, token: str) -> Mapping[str, str]: ...


class _BadLambdaResponse(Exception):
    pass


Headers = list[tuple[str, str]]
Reply = tuple[int, Headers, bytes]


class LambdaReply(tuple[int, Headers, bytes]):
    """A reply the api Lambda made. The gateway adds no CORS header to it: with a proxy
    integration API Gateway passes the Lambda's headers as they are, so the api answers
    with its own (Powertools' CORS configuration, ``sluice.api.app``), as it must in AWS.
    The gateway's own answers (preflights, its 401s, 413s, 503s) carry ``*``, as API
    Gateway's gateway responses do."""


def _error(status: int, code: str, message: str, details: Any = None) -> Reply:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    body = json.dumps({"error": error}).encode()
    return status, [("Content-Type", "application/json")], body


def _method_not_allowed(method: str) -> Reply:
    allow = ", ".join(GATEWAY_METHODS)
    status, headers, body = _error(
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
        self._server = _Server(("127.0.0.1", port), _Handler, self)
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
                return _error(401, "unauthorized", "missing bearer token")
            try:
                claims = dict(self.verifier.verify(token))
            except TokenRejected as exc:
                return _error(401, "unauthorized", exc.reason)
            except Exception as exc:
                logger.exception("the authorizer failed")
                return _error(500, "internal_error", f"authorizer failed: {exc}")
            event["requestContext"]["authorizer"] = {"claims": claims}
        try:
            result = self.invoke(event)
        except Exception as exc:
            logger.exception("the api Lambda failed on %s %s", method, event["path"])
            return _error(502, "bad_gateway", f"the Lambda function failed: {exc}")
        try:
            return _proxy_reply(result)
        except _BadLambdaResponse as exc:
            logger.error("malformed Lambda proxy response: %s", exc)
            return _error(502, "bad_gateway", f"malformed Lambda proxy response: {exc}")


def _health(method: str, path: str, ready: bool) -> Reply:
    """GET /health, and what every route answers before the system is ready."""
    if not ready:
        status, headers, body = _error(
            503, "starting", "sluice local is starting; GET /health answers 200 once it is ready"
        )
        return status, [*headers, ("Retry-After", "1")], body
    if method not in ("GET", "HEAD"):
        return _error(405, "method_not_allowed", f"{path} takes GET only")
    return 200, [("Content-Type", "application/json")], b'{"status":"ok"}'


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


def _bearer_token(headers: Headers) -> str:
    value = next((v for k, v in headers if k.lower() == "authorization"), "").strip()
    scheme, _, rest = value.partition(" ")
    # The Cognito authorizer takes the header as the token; clients mostly send "Bearer".
    return rest.strip() if scheme.lower() == "bearer" else value


def _proxy_reply(result: Any) -> Reply:
    if not isinstance(result, dict):
        raise _BadLambdaResponse(f"expected an object, got {type(result).__name__}")
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599:
        raise _BadLambdaResponse(f"statusCode {status!r} is not an HTTP status")
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise _BadLambdaResponse("headers and multiValueHeaders must be objects")
    # Like API Gateway: a name in multiValueHeaders wins over the same name in headers.
    taken = {name.lower() for name in multi}
    merged = [(k, v) for k, v in single.items() if k.lower() not in taken]
    for name, values in multi.items():
        if not isinstance(values, list):
            raise _BadLambdaResponse(f"multiValueHeaders[{name!r}] must be a list")
        merged.extend((name, value) for value in values)
    out: Headers = []
    for name, value in merged:
        if not isinstance(value, str | int | float | bool):
            raise _BadLambdaResponse(f"header {name!r} has a non-scalar value")
        if any(c in f"{name}{value}" for c in "\r\n"):  # would split the response
            raise _BadLambdaResponse(f"header {name!r} contains a line break")
        if name.lower() not in _HOP_HEADERS:
            out.append((str(name), str(value)))
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise _BadLambdaResponse(f"body must be a string, got {type(body).__name__}")
    raw = (body or "").encode("utf-8")
    if result.get("isBase64Encoded") and body:
        try:
            raw = base64.b64decode(body, validate=True)
        except binascii.Error as exc:
            raise _BadLambdaResponse("isBase64Encoded but the body is not base64") from exc
    if not any(name.lower() == "content-type" for name, _ in out):
        out.append(("Content-Type", "application/json"))  # API Gateway's default
    return LambdaReply((status, out, raw))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog is 5: 27 load-test clients connecting at once had
    # one refused with a reset. werkzeug's (moto's server) is 128 too.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type, gateway: LocalApiGateway):
        self.gateway = gateway
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver would print the traceback to stderr.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client that closed its kept-open connection (a stopping load test)
        logger.exception("the local gateway failed on a request from %s", client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # An answer goes out in one write, at once: unbuffered, the headers went in one
    # segment and the body in a second, which Nagle's algorithm held until the client's
    # delayed ACK of the first: 40 ms on every answer.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    # An idle keep-alive connection frees its thread (and stops being served) after this.
    timeout = 60
    server: _Server

    def _serve(self) -> None:
        started = time.monotonic()
        gateway = self.server.gateway
        request_id = str(uuid.uuid4())
        reply = self._read_body()
        if isinstance(reply, bytes):
            headers = list(self.headers.items())
            ip = self.client_address[0]
            reply = gateway.handle(self.command, self.path, headers, reply, ip, request_id)
        status, headers, body = reply
        if not isinstance(reply, LambdaReply) and not any(
            name.lower() == _CORS_ORIGIN[0].lower() for name, _ in headers
        ):
            headers.append(_CORS_ORIGIN)
        headers.append(("x-amzn-RequestId", request_id))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        # Logged before anything is sent, so the line exists once the client has its answer.
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.info("%s %s %d %.1fms", self.command, self.path, status, elapsed_ms)
        self.end_headers()
        try:
            if self.command != "HEAD" and status not in (204, 304):
                self.wfile.write(body)
            self.wfile.flush()  # headers and body, together (wbufsize)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client left; nothing to tell it

    def _read_body(self) -> bytes | Reply:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            return _error(411, "length_required", "send the body with a Content-Length")
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if length < 0:
                raise ValueError(length)
        except ValueError:
            self.close_connection = True
            return _error(400, "bad_request", "invalid Content-Length")
        limit = self.server.gateway.max_body_bytes
        if length > limit:
            # Drain what a client reasonably sends so it sees the 413, not a reset.
            remaining = length if length <= _DRAIN_LIMIT else 0
            while remaining > 0:
                chunk = self.rfile.read(min(1 << 16, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
            self.close_connection = True
            return _error(413, "payload_too_large", f"the body exceeds {limit} bytes")
        return self.rfile.read(length) if length else b""

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY ...) is served too, to answer 405, not http.server's
        # HTML 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - " + format, self.address_string(), *args)
