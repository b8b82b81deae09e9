"""sluice.local.patches.request_body: a long request body is read whole, into one buffer."""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Iterator
from typing import Any

import pytest
from sluice.local.patches import request_body, s3_reads, s3_writes
from werkzeug.exceptions import ClientDisconnected
from werkzeug.wsgi import LimitedStream

from tests.support import own_moto_server

DATA = random.Random(20261202).randbytes(3 * request_body.MIN_BYTES + 17)


@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    """An S3 client of a moto server of its own, with the patches the local system uses."""
    s3_reads.install()
    s3_writes.install()
    request_body.install()
    with own_moto_server("s3") as client:
        client.create_bucket(Bucket="request-body-test")
        yield client


@pytest.mark.parametrize("size", [0, 100, request_body.MIN_BYTES - 1, len(DATA)])
def test_an_uploaded_object_holds_exactly_the_bytes_sent(s3: Any, size: int) -> None:
    body = DATA[:size]
    put = s3.put_object(Bucket="request-body-test", Key=f"k{size}", Body=body)
    stored = s3.get_object(Bucket="request-body-test", Key=f"k{size}")["Body"].read()
    assert (stored, put["ETag"]) == (body, f'"{hashlib.md5(body).hexdigest()}"')


class CountingReader(io.BufferedReader):
    """A socket's buffered reader that records the size of every read asked of it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self.asked: list[int] = []

    def read(self, size: int | None = -1, /) -> bytes:
        self.asked.append(-1 if size is None else size)
        return super().read(size)


def test_a_long_body_is_read_whole_in_one_read_and_the_stream_is_then_exhausted() -> None:
    request_body.install()
    reader = CountingReader(DATA)
    stream = LimitedStream(reader, len(DATA))
    assert stream.readall() == DATA
    assert reader.asked == [len(DATA)]
    assert (stream.is_exhausted, stream.readall()) == (True, b"")


def test_a_client_that_sends_less_than_its_content_length_is_a_disconnect() -> None:
    request_body.install()
    stream = LimitedStream(io.BufferedReader(io.BytesIO(DATA)), len(DATA) + 1)
    with pytest.raises(ClientDisconnected):
        stream.readall()
