"""S3 throttling: every third request the steps make to the data bucket, and every third
ranged read of an upload, is answered 503 SlowDown, as S3 answers a prefix pushed past
its request rate. The steps retry with backoff (botocore's standard mode, Arrow's S3
retry strategy) and the answers are the same as without throttling."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from sluice.config import settings

from tests.integration.test_tasks import (
    expected_plays,
    finished,
    plays_csv,
    plays_of,
    read_outputs,
    start,
)
from tests.integration.uploader import Uploader
from tests.support import call_api

_SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


class Throttle:
    """Answers every ``every``-th distinct request with 503 SlowDown, once: its retry (the
    same method, path and range) passes, as a prefix's rate recovers while a client
    backs off. Distinct, because concurrent steps would otherwise refuse each other's
    retries past any retry budget."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.refused = 0
        self._seen: set[tuple[str, str, str, str]] = set()
        self._lock = threading.Lock()

    def refuses(self, environ: dict[str, Any]) -> bool:
        bucket = environ.get("PATH_INFO", "").split("/")[1:2]
        data = bucket == [settings().data_bucket]
        ranged_upload = bucket == [settings().upload_bucket] and "HTTP_RANGE" in environ
        presigned = "X-Amz-Signature=" in environ.get("QUERY_STRING", "")
        if presigned or not (data or ranged_upload):  # the test's own downloads pass
            return False
        request = (
            environ["REQUEST_METHOD"],
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_RANGE", ""),
        )
        with self._lock:
            if request in self._seen:
                return False
            self._seen.add(request)
            if len(self._seen) % self.every:
                return False
            self.refused += 1
            return True


@pytest.fixture
def throttle(local: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Throttle]:
    throttle = Throttle(every=3)
    serve = DomainDispatcherApplication.__call__

    def throttled(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        if throttle.refuses(environ):
            start_response(
                "503 Slow Down",
                [("Content-Type", "application/xml"), ("Content-Length", str(len(_SLOW_DOWN)))],
            )
            return [_SLOW_DOWN]
        return serve(self, environ, start_response)

    monkeypatch.setattr(DomainDispatcherApplication, "__call__", throttled)
    yield throttle


def test_an_ingest_and_a_task_under_s3_throttling_give_the_same_answers(
    local: Any, throttle: Throttle
) -> None:
    uploader = Uploader(local)
    # ~9 KB: about nine 1 KB chunks, which meet some 55 refusals (900 rows met ~135, and
    # each refusal's backoff is real time).
    body = plays_csv(rows=300)
    dataset = uploader.ingest(body)
    assert (dataset["status"], dataset["row_count"]) == ("ready", 300)
    status, rows = call_api(
        "GET", f"/datasets/{dataset['id']}/rows", owner=uploader.owner, query={"num_rows": "300"}
    )
    assert status == 200
    assert sum(row["Number of Plays"] for row in rows["rows"]) == sum(expected_plays(body).values())

    status, task = start(uploader, dataset["id"], {"preset": "bmat_plays_per_song_per_day"})
    assert status == 202
    assert finished(uploader, task["id"])["status"] == "succeeded"
    status, answer = call_api("GET", f"/tasks/{task['id']}/result", owner=uploader.owner)
    assert status == 200
    table = read_outputs(answer)
    got = plays_of(table)
    assert got == expected_plays(body)
    assert throttle.refused >= 10  # the steps really met throttling
