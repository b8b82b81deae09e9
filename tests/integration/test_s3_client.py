"""The shared S3 client, against the embedded AWS."""

from __future__ import annotations

from typing import Any

from sluice import aws
from sluice.config import settings
from sluice.store import objects


def test_uploads_are_sent_with_an_unsigned_body_and_land_intact(local: Any) -> None:
    s3 = aws.client("s3")
    sent: list[bytes] = []

    def record(request: Any, **_: Any) -> None:
        sent.append(request.headers["X-Amz-Content-SHA256"])

    s3.meta.events.register("before-send.s3.PutObject", record)
    try:
        body = bytes(range(256)) * 4096
        objects.put_bytes(settings().data_bucket, "tests/unsigned.bin", body, "x/y")
    finally:
        s3.meta.events.unregister("before-send.s3.PutObject", record)
    assert sent == [b"UNSIGNED-PAYLOAD"]
    assert objects.get_bytes(settings().data_bucket, "tests/unsigned.bin") == body


def test_puts_and_gets_carry_no_checksum_the_operation_does_not_require(local: Any) -> None:
    s3 = aws.client("s3")
    sent: list[dict[str, str]] = []

    def record(request: Any, **_: Any) -> None:
        sent.append({k.lower(): str(v) for k, v in request.headers.items()})

    s3.meta.events.register("before-send.s3.PutObject", record)
    s3.meta.events.register("before-send.s3.GetObject", record)
    try:
        objects.put_bytes(settings().data_bucket, "tests/plain.bin", b"x" * 1000, "x/y")
        assert objects.get_bytes(settings().data_bucket, "tests/plain.bin") == b"x" * 1000
    finally:
        s3.meta.events.unregister("before-send.s3.PutObject", record)
        s3.meta.events.unregister("before-send.s3.GetObject", record)
    put, get = sent
    assert [
        h for h in put if h.startswith("x-amz-checksum") or h.startswith("x-amz-sdk-checksum")
    ] == []
    assert "x-amz-checksum-mode" not in get
