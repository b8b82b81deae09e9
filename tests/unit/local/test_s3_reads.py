"""sluice.local.patches.s3_reads: ranged GETs read only their bytes and answer as moto did."""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from moto.s3.models import FakeKey
from moto.s3.responses import S3Response
from sluice.local.patches import s3_reads

from tests.unit.local.s3_server import RANDOM_HEADERS, own_bucket

SIZE = 20_000_000
DATA = random.Random(20240607).randbytes(SIZE)
ETAG = f'"{hashlib.md5(DATA).hexdigest()}"'

# Range header -> the (first, last) bytes S3 answers with 206, "416", or "whole" (a 200).
CASES: dict[str, tuple[int, int] | str] = {
    "bytes=0-0": (0, 0),
    "bytes=9000000-9999999": (9_000_000, 9_999_999),
    f"bytes={SIZE - 1}-{SIZE - 1}": (SIZE - 1, SIZE - 1),
    "bytes=-10": (SIZE - 10, SIZE - 1),
    f"bytes={SIZE - 100}-": (SIZE - 100, SIZE - 1),
    "bytes=5000000-": (5_000_000, SIZE - 1),
    f"bytes={SIZE - 10}-{SIZE + 100}": (SIZE - 10, SIZE - 1),  # clipped at the end
    f"bytes=-{SIZE + 5}": (0, SIZE - 1),  # a suffix longer than the object: all of it
    f"bytes={SIZE}-": "416",
    f"bytes={SIZE + 5}-{SIZE + 10}": "416",
    "bytes=-0": "416",
    "bytes=0-1,5-6": "whole",  # several ranges: moto answers the whole object
    "bytes=x-y": "whole",  # unparsable: ignored, as S3 does
    "bytes=10-5": "whole",  # last before first: ignored
}


@pytest.fixture(scope="module")
def s3_object() -> Iterator[tuple[Any, str, str]]:
    """A 20 MB object on a moto server of its own; yields (client, bucket, key)."""
    s3_reads.install()
    with own_bucket() as (client, bucket):
        client.put_object(Bucket=bucket, Key="big.bin", Body=DATA)
        yield client, bucket, "big.bin"


def _url(s3_object: tuple[Any, str, str]) -> str:
    client, bucket, key = s3_object
    url: str = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    return url


def _fetch(
    url: str, range_header: str | None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    headers = {} if range_header is None else {"Range": range_header}
    response = requests.request(method, url, headers=headers, timeout=60)
    kept = {k.lower(): v for k, v in response.headers.items() if k.lower() not in RANDOM_HEADERS}
    body = re.sub(rb"<HostId>[^<]*</HostId>", b"<HostId/>", response.content)
    return response.status_code, kept, body


def test_install_is_idempotent() -> None:
    s3_reads.install()
    patched = S3Response.get_object
    s3_reads.install()
    assert S3Response.get_object is patched
    assert s3_reads.installed()


@pytest.mark.parametrize("range_header", list(CASES))
def test_ranged_get_answers_like_s3(s3_object: tuple[Any, str, str], range_header: str) -> None:
    s3_reads.install()
    status, headers, body = _fetch(_url(s3_object), range_header)
    expected = CASES[range_header]
    if expected == "416":
        assert status == 416
        assert b"<Code>InvalidRange</Code>" in body
        assert f"<ActualObjectSize>{SIZE}</ActualObjectSize>".encode() in body
    elif expected == "whole":
        assert status == 200
        assert body == DATA
        assert headers["content-length"] == str(SIZE)
        assert "content-range" not in headers
        assert headers["etag"] == ETAG
    else:
        assert isinstance(expected, tuple)
        first, last = expected
        assert status == 206
        assert body == DATA[first : last + 1]
        assert headers["content-range"] == f"bytes {first}-{last}/{SIZE}"
        assert headers["content-length"] == str(last - first + 1)
        assert headers["etag"] == ETAG
        assert headers["accept-ranges"] == "bytes"


def test_whole_object_get_streams_the_same_bytes(s3_object: tuple[Any, str, str]) -> None:
    s3_reads.install()
    client, bucket, key = s3_object
    answer = client.get_object(Bucket=bucket, Key=key)
    assert answer["ContentLength"] == SIZE
    assert answer["ETag"] == ETAG
    assert answer["Body"].read() == DATA


def test_a_streamed_object_survives_being_replaced_mid_stream(
    s3_object: tuple[Any, str, str],
) -> None:
    s3_reads.install()
    client, bucket, _ = s3_object
    client.put_object(Bucket=bucket, Key="replaced.bin", Body=DATA)
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "replaced.bin"}
    )
    with requests.get(url, stream=True, timeout=60) as response:
        chunks = response.iter_content(64 * 1024)
        first = next(chunks)
        # moto closes the old object's file when a PUT replaces it.
        client.put_object(Bucket=bucket, Key="replaced.bin", Body=b"new")
        body = first + b"".join(chunks)
    assert body == DATA
    assert client.get_object(Bucket=bucket, Key="replaced.bin")["Body"].read() == b"new"
    client.delete_object(Bucket=bucket, Key="replaced.bin")


def test_responses_are_byte_identical_to_moto_unpatched(s3_object: tuple[Any, str, str]) -> None:
    url = _url(s3_object)
    requests_made: list[tuple[str, str | None]] = [("GET", r) for r in CASES]
    requests_made += [("GET", None), ("GET", ""), ("HEAD", "bytes=0-9"), ("HEAD", "bytes=-0")]
    s3_reads.uninstall()
    try:
        before = [_fetch(url, r, method) for method, r in requests_made]
    finally:
        s3_reads.install()
    after = [_fetch(url, r, method) for method, r in requests_made]
    for (method, r), old, new in zip(requests_made, before, after, strict=True):
        assert new == old, f"{method} Range={r!r}"


def test_a_ranged_get_does_not_read_the_whole_object(
    s3_object: tuple[Any, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    s3_reads.install()
    whole_reads: list[int] = []
    value: property = vars(FakeKey)["value"]

    def counting_get(key: FakeKey) -> bytes:
        data: bytes = value.fget(key)  # type: ignore[misc]
        whole_reads.append(len(data))
        return data

    monkeypatch.setattr(FakeKey, "value", property(counting_get, value.fset))
    client, bucket, key = s3_object
    part = client.get_object(Bucket=bucket, Key=key, Range="bytes=100-199")["Body"].read()
    assert part == DATA[100:200]
    assert whole_reads == []
    # Several ranges: moto's answer is the whole object, read as before.
    whole = client.get_object(Bucket=bucket, Key=key, Range="bytes=0-1,5-6")["Body"].read()
    assert whole == DATA
    assert whole_reads == [SIZE]


def test_object_bytes_slices_like_bytes() -> None:
    value = bytes(range(256)) * 100_000  # past the in-memory limit: a file on disk
    key = FakeKey("k", value, account_id="123456789012", region_name="us-east-1")
    try:
        view = s3_reads.ObjectBytes(key)
        assert len(view) == len(value)
        for item in (slice(0, 1), slice(5, 5), slice(10, 3), slice(-10, None), slice(0, None, 7)):
            assert view[item] == value[item]
        assert b"".join(view) == value
        assert key.value == value
    finally:
        key.dispose()


def test_a_long_slice_of_a_streaming_view_is_its_bytes_in_blocks() -> None:
    value = random.Random(7).randbytes(2 * s3_reads.STREAM_MIN_BYTES + 5)
    key = FakeKey("k", value, account_id="123456789012", region_name="us-east-1")
    try:
        view = s3_reads.ObjectBytes(key, streams=True)
        start, stop = 3, s3_reads.STREAM_MIN_BYTES + s3_reads.BLOCK_BYTES + 10
        sliced = view[start:stop]
        assert isinstance(sliced, s3_reads.RangeBlocks)
        blocks = list(sliced)
        assert (len(sliced), b"".join(blocks)) == (stop - start, value[start:stop])
        assert max(len(block) for block in blocks) == s3_reads.BLOCK_BYTES
        assert view[0:100] == value[:100]  # short slices stay bytes
    finally:
        key.dispose()


def test_a_streamed_range_reads_the_object_as_it_was_when_the_stream_started() -> None:
    value = random.Random(8).randbytes(s3_reads.STREAM_MIN_BYTES + 1)
    key = FakeKey("k", value, account_id="123456789012", region_name="us-east-1")
    blocks = iter(s3_reads.ObjectBytes(key, streams=True)[1:])
    first = next(blocks)
    key.dispose()  # what a PUT over the same key does to the old file
    assert first + b"".join(blocks) == value[1:]
