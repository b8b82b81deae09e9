"""Keep the embedded AWS's connections open between requests (HTTP/1.1 keep-alive).

werkzeug's development server, which serves moto, answers every request with
``Connection: close``, and after each answer waits on the socket (a selector, 10 ms at
most) for request bytes the application left unread: every AWS call of every handler
opened a TCP connection, the server started a thread for it, and closed it after one
answer. On this sandboxed kernel, where a socket's system calls cost more than the
call's own Python, that was most of what the embedded AWS spent under the load scenario
(py-spy on the server: socket writes, the drain's selector, connects and thread starts
above a third of its samples).

werkzeug closes because ``http.server`` cannot tell where a request body the
application left unread ends, and would parse its rest as the next request. Here a
request with a ``Content-Length`` is read through a stream bounded by it, whose rest is
read after the answer; a chunked body, whose end is known only by reading it, or an
answer that failed part way, still closes its connection. The answer goes out as
werkzeug's would (its status, headers, chunking where it has no length), with the
headers and the first bytes of the body in one write: with the connection kept open,
a body sent apart from its headers would wait on Nagle's algorithm for the client's
delayed ACK (40 ms, as the local gateway once did).

werkzeug and moto are pinned exactly (``pyproject.toml``): this replaces moto's request
handler's ``run_wsgi``, which is werkzeug's.
"""

from __future__ import annotations

import logging
import os
import selectors
import socket
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.wsgi import LimitedStream

from sluice.local.patches.replace import replace_once, replaced

logger = logging.getLogger(__name__)

_NO_BODY_CODES = frozenset({204, 304})


def _bounded_body(environ: dict[str, Any]) -> LimitedStream | None:
    """The request's body as a stream bounded by its Content-Length, put in ``environ``;
    None where its end is not known that way (chunked, or a length that is no number)."""
    if environ.get("wsgi.input_terminated"):  # chunked: werkzeug dechunks it
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length < 0:
        return None
    body = LimitedStream(environ["wsgi.input"], length)
    # Terminated: werkzeug's request then reads this stream as it is, unwrapped.
    environ["wsgi.input"] = body
    environ["wsgi.input_terminated"] = True
    return body


class _Answer:
    """Writes one WSGI application's answer on a request handler's connection."""

    def __init__(self, handler: Any, keep_open: bool) -> None:
        self.handler = handler
        self.keep_open = keep_open
        self.status: str | None = None
        self.headers: list[tuple[str, str]] = []
        self.started = False
        self.chunked = False

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info and self.started:
            raise exc_info[1].with_traceback(exc_info[2])
        self.status, self.headers = status, headers
        return self.write

    def write(self, data: bytes) -> None:
        handler = self.handler
        if self.started:
            if data:
                handler.wfile.write(self._framed(data))
            return
        assert self.status is not None, "write() before start_response"
        code_text, _, message = self.status.partition(" ")
        code = int(code_text)
        handler.send_response(code, message)
        keys = set()
        for key, value in self.headers:
            handler.send_header(key, value)
            keys.add(key.lower())
        if not (
            "content-length" in keys
            or handler.command == "HEAD"
            or 100 <= code < 200
            or code in _NO_BODY_CODES
        ):
            self.chunked = True
            handler.send_header("Transfer-Encoding", "chunked")
        if not self.keep_open:
            handler.send_header("Connection", "close")
        self.started = True
        head = b"".join(handler._headers_buffer) + b"\r\n"
        handler._headers_buffer = []
        handler.wfile.write(head + self._framed(data) if data else head)

    def finish(self) -> None:
        if not self.started:
            self.write(b"")
        if self.chunked:
            self.handler.wfile.write(b"0\r\n\r\n")

    def _framed(self, data: bytes) -> bytes:
        return b"%x\r\n%b\r\n" % (len(data), data) if self.chunked else data


def _sent_from_file(handler: Any, answer: _Answer, result: Iterable[bytes]) -> bool:
    """Send a body that is a range of a file (``file_range()``, s3_reads.RangeBlocks) by
    ``sendfile``, after the headers: its bytes go from the file to the socket without
    passing through Python. False (nothing sent) for any other body, or one whose file
    is in memory, or an answer without a length (chunked)."""
    file_range = getattr(result, "file_range", None)
    found = file_range() if file_range is not None else None
    if found is None:
        return False
    fd, start, length = found
    try:
        answer.write(b"")  # the status and headers
        if answer.chunked:  # no length: the blocks must be framed, as iterated
            for data in result:
                answer.write(data)
            return True
        _send_file(handler.connection, fd, start, length)
    finally:
        os.close(fd)
    return True


def _send_file(connection: socket.socket, fd: int, start: int, length: int) -> None:
    """``length`` bytes of the file ``fd`` from ``start`` to ``connection``, by offset (the
    file's own position, which moto's reads share, does not move)."""
    timeout = connection.gettimeout()
    sent = 0
    with selectors.DefaultSelector() as selector:
        selector.register(connection, selectors.EVENT_WRITE)
        while sent < length:
            try:
                count = os.sendfile(connection.fileno(), fd, start + sent, length - sent)
            except BlockingIOError:  # a socket with a timeout is non-blocking underneath
                if not selector.select(timeout):
                    raise TimeoutError("the client stopped reading") from None
                continue
            if count == 0:
                raise OSError(f"the object's file ended at {start + sent} of {start + length}")
            sent += count


def _run_wsgi_keeping_open(original: Callable[[Any], None]) -> Callable[[Any], None]:
    def run_wsgi(self: Any) -> None:
        if not getattr(self, "_sluice_no_delay", False):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sluice_no_delay = True
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.environ = environ = self.make_environ()
        body = _bounded_body(environ)
        answer = _Answer(self, keep_open=body is not None and not self.close_connection)
        try:
            result: Iterable[bytes] = self.server.app(environ, answer.start_response)
            try:
                if not _sent_from_file(self, answer, result):
                    for data in result:
                        answer.write(data)
                answer.finish()
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except (ConnectionError, TimeoutError):
            self.close_connection = True
            return
        except Exception:
            logger.exception("the embedded AWS failed to answer %s %s", self.command, self.path)
            self.close_connection = True
            if not answer.started:
                self.send_error(500)
            return
        if body is None or not answer.keep_open:
            self.close_connection = True
            return
        body.exhaust()  # what the application left unread, up to the next request
        if not body.is_exhausted:  # the client went away mid-body
            self.close_connection = True

    return run_wsgi


def install() -> None:
    """Answer over HTTP/1.1 keep-alive connections. Safe to call more than once."""
    replace_once(MotoRequestHandler, "run_wsgi", _run_wsgi_keeping_open)


def installed() -> bool:
    """Whether ``install()`` has patched moto's request handler in this process."""
    return replaced(MotoRequestHandler, "run_wsgi")


__all__ = ["install", "installed"]
