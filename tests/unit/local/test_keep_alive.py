"""The embedded AWS keeps its connections open between requests (patches.keep_alive)."""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler
from sluice.local.patches import keep_alive
from werkzeug.serving import make_server


def _app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers with the client's port; reads as much of the body as ``?read=N`` says."""
    query = dict(part.split("=") for part in environ["QUERY_STRING"].split("&") if part)
    read = environ["wsgi.input"].read(int(query.get("read", "-1")))
    body = json.dumps({"port": environ["REMOTE_PORT"], "read": read.decode()}).encode()
    headers = [("Content-Type", "application/json")]
    if query.get("length", "yes") == "yes":
        headers.append(("Content-Length", str(len(body))))
    start_response("200 OK", headers)
    return [body]


@contextlib.contextmanager
def _server() -> Iterator[int]:
    keep_alive.install()
    server = make_server("127.0.0.1", 0, _app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.port
    finally:
        server.shutdown()
        server.server_close()


def _ask(
    connection: http.client.HTTPConnection, path: str, body: bytes | None = None, **headers: str
) -> tuple[dict[str, Any], http.client.HTTPResponse]:
    connection.request("POST" if body is not None else "GET", path, body=body, headers=headers)
    answer = connection.getresponse()
    return json.loads(answer.read()), answer


def test_two_requests_on_one_connection_are_both_answered_on_it() -> None:
    with _server() as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        first, answer = _ask(connection, "/")
        second, _ = _ask(connection, "/")
    assert answer.getheader("Connection") is None
    assert first["port"] == second["port"]


def test_a_body_the_application_left_unread_is_not_read_as_the_next_request() -> None:
    with _server() as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        first, _ = _ask(connection, "/?read=3", b"abcdefgh")
        second, _ = _ask(connection, "/", b"next")
    assert (first["read"], second["read"]) == ("abc", "next")
    assert first["port"] == second["port"]


def test_an_answer_without_a_length_is_chunked_and_the_connection_stays_open() -> None:
    with _server() as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        first, answer = _ask(connection, "/?length=no")
        second, _ = _ask(connection, "/")
    assert answer.getheader("Transfer-Encoding") == "chunked"
    assert first["port"] == second["port"]


def test_a_chunked_request_closes_its_connection() -> None:
    with _server() as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("POST", "/", body=iter([b"ab", b"cd"]), encode_chunked=True)
        answer = connection.getresponse()
        body = json.loads(answer.read())
    assert body["read"] == "abcd"
    assert answer.getheader("Connection") == "close"


def test_a_client_that_asks_to_close_has_its_connection_closed() -> None:
    with _server() as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        _, answer = _ask(connection, "/", Connection="close")
    assert answer.getheader("Connection") == "close"
