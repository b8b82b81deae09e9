"""The local gateway's HTTP/1.1 server: connections kept open, a body read by its
``Content-Length`` (or refused: 411, 400, 413), every answer sent in one write, and one
access-log line a request. What a request gets is :class:`~sluice.local.gateway.
LocalApiGateway`'s to decide."""

from __future__ import annotations

import logging
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from sluice.local.gateway_reply import CORS_ORIGIN, LambdaReply, Reply, error_reply
from sluice.local.slow_requests import SlowRequests

if TYPE_CHECKING:
    from sluice.local.gateway import LocalApiGateway

# The gateway's logger, access log included: the name a log configuration knows it by.
logger = logging.getLogger("sluice.local.gateway")

_DRAIN_LIMIT = 64 * 1024 * 1024


class GatewayServer(ThreadingHTTPServer):
    """A thread a connection, each handing its requests to ``gateway``."""

    daemon_threads = True
    # socketserver's default backlog is 5: 27 load-test clients connecting at once had
    # one refused with a reset. werkzeug's (moto's server) is 128 too.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], gateway: LocalApiGateway):
        self.gateway = gateway
        self.slow_requests = SlowRequests()
        super().__init__(address, _Handler)

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
    server: GatewayServer

    def _serve(self) -> None:
        started = time.monotonic()
        gateway = self.server.gateway
        request_id = str(uuid.uuid4())
        with self.server.slow_requests.watching(f"{self.command} {self.path}"):
            reply = self._read_body()
            if isinstance(reply, bytes):
                headers = list(self.headers.items())
                ip = self.client_address[0]
                reply = gateway.handle(self.command, self.path, headers, reply, ip, request_id)
        status, headers, body = reply
        if not isinstance(reply, LambdaReply) and not any(
            name.lower() == CORS_ORIGIN[0].lower() for name, _ in headers
        ):
            headers.append(CORS_ORIGIN)
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
            return error_reply(411, "length_required", "send the body with a Content-Length")
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if length < 0:
                raise ValueError(length)
        except ValueError:
            self.close_connection = True
            return error_reply(400, "bad_request", "invalid Content-Length")
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
            return error_reply(413, "payload_too_large", f"the body exceeds {limit} bytes")
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


__all__ = ["GatewayServer"]
