"""sluice.local.moto_patches: ranged GETs read only their bytes and answer as moto did."""

from __future__ import annotations

import hashlib
import random
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from moto import backends
from moto.s3.models import FakeKey
from moto.s3.responses import S3Response
from sluice.local import moto_patches

from tests.support import own_moto_server

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

_RANDOM_HEADERS = {"date", "x-amzn-requestid", "x-amz-request-id", "x-amz-id-2"}


@pytest.fixture(scope="module")
def s3_object() -> Iterator[tuple[Any, str, str]]:
    """A 20 MB object on a moto server of its own; yields (client, bucket, key)."""
    moto_patches.install()
    with own_moto_server("s3") as client:
        # moto's backends are per process: a bucket of our own leaves other tests' state.
        bucket = f"patch-test-{uuid.uuid4().hex[:12]}"
        client.create_bucket(Bucket=bucket)
        client.put_object(Bucket=bucket, Key="big.bin", Body=DATA)
        try:
            yield client, bucket, "big.bin"
        finally:
            for listed in client.list_objects_v2(Bucket=bucket).get("Contents", []):
                client.delete_object(Bucket=bucket, Key=listed["Key"])
            for upload in client.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
                client.abort_multipart_upload(
                    Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
            client.delete_bucket(Bucket=bucket)


def _url(s3_object: tuple[Any, str, str]) -> str:
    client, bucket, key = s3_object
    url: str = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    return url


def _fetch(
    url: str, range_header: str | None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    headers = {} if range_header is None else {"Range": range_header}
    response = requests.request(method, url, headers=headers, timeout=60)
    kept = {k.lower(): v for k, v in response.headers.items() if k.lower() not in _RANDOM_HEADERS}
    body = re.sub(rb"<HostId>[^<]*</HostId>", b"<HostId/>", response.content)
    return response.status_code, kept, body


def test_install_is_idempotent() -> None:
    moto_patches.install()
    patched = S3Response.get_object
    moto_patches.install()
    assert S3Response.get_object is patched
    assert moto_patches.installed()


def test_moto_lists_its_service_modules_once(monkeypatch: pytest.MonkeyPatch) -> None:
    moto_patches.uninstall()
    listed = list(backends.list_of_moto_modules())
    moto_patches.install()

    def no_listing(path: str) -> list[str]:
        raise AssertionError(f"listed {path} again")

    monkeypatch.setattr(backends.os, "listdir", no_listing)
    assert list(backends.list_of_moto_modules()) == listed
    assert "s3" in listed


@pytest.mark.parametrize("range_header", list(CASES))
def test_ranged_get_answers_like_s3(s3_object: tuple[Any, str, str], range_header: str) -> None:
    moto_patches.install()
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
    moto_patches.install()
    client, bucket, key = s3_object
    answer = client.get_object(Bucket=bucket, Key=key)
    assert answer["ContentLength"] == SIZE
    assert answer["ETag"] == ETAG
    assert answer["Body"].read() == DATA


def test_a_streamed_object_survives_being_replaced_mid_stream(
    s3_object: tuple[Any, str, str],
) -> None:
    moto_patches.install()
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
    moto_patches.uninstall()
    try:
        before = [_fetch(url, r, method) for method, r in requests_made]
    finally:
        moto_patches.install()
    after = [_fetch(url, r, method) for method, r in requests_made]
    for (method, r), old, new in zip(requests_made, before, after, strict=True):
        assert new == old, f"{method} Range={r!r}"


def test_a_ranged_get_does_not_read_the_whole_object(
    s3_object: tuple[Any, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_patches.install()
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
        view = moto_patches.ObjectBytes(key)
        assert len(view) == len(value)
        for item in (slice(0, 1), slice(5, 5), slice(10, 3), slice(-10, None), slice(0, None, 7)):
            assert view[item] == value[item]
        assert b"".join(view) == value
        assert key.value == value
    finally:
        key.dispose()


def test_a_long_slice_of_a_streaming_view_is_its_bytes_in_blocks() -> None:
    value = random.Random(7).randbytes(2 * moto_patches.STREAM_MIN_BYTES + 5)
    key = FakeKey("k", value, account_id="123456789012", region_name="us-east-1")
    try:
        view = moto_patches.ObjectBytes(key, streams=True)
        start, stop = 3, moto_patches.STREAM_MIN_BYTES + moto_patches.BLOCK_BYTES + 10
        sliced = view[start:stop]
        assert isinstance(sliced, moto_patches.RangeBlocks)
        blocks = list(sliced)
        assert (len(sliced), b"".join(blocks)) == (stop - start, value[start:stop])
        assert max(len(block) for block in blocks) == moto_patches.BLOCK_BYTES
        assert view[0:100] == value[:100]  # short slices stay bytes
    finally:
        key.dispose()


def test_a_streamed_range_reads_the_object_as_it_was_when_the_stream_started() -> None:
    value = random.Random(8).randbytes(moto_patches.STREAM_MIN_BYTES + 1)
    key = FakeKey("k", value, account_id="123456789012", region_name="us-east-1")
    blocks = iter(moto_patches.ObjectBytes(key, streams=True)[1:])
    first = next(blocks)
    key.dispose()  # what a PUT over the same key does to the old file
    assert first + b"".join(blocks) == value[1:]


MULTIPART_CASES: dict[str, dict[str, str]] = {
    "sdk default": {},
    "crc32 full object": {"ChecksumAlgorithm": "CRC32", "ChecksumType": "FULL_OBJECT"},
    "crc32 composite": {"ChecksumAlgorithm": "CRC32", "ChecksumType": "COMPOSITE"},
    "sha256 composite": {"ChecksumAlgorithm": "SHA256", "ChecksumType": "COMPOSITE"},
    "sha1 composite": {"ChecksumAlgorithm": "SHA1"},
}
PART = 5 * 1024 * 1024  # the smallest part but the last


def _multipart(
    client: Any, bucket: str, key: str, options: dict[str, str], sizes: list[int]
) -> tuple[int, dict[str, Any]]:
    """Upload DATA's first sum(sizes) bytes in parts; (status, what a checked GET says)."""
    upload = client.create_multipart_upload(Bucket=bucket, Key=key, **options)
    algorithm = options.get("ChecksumAlgorithm")
    parts, start = [], 0
    for number, size in enumerate(sizes, start=1):
        extra = {"ChecksumAlgorithm": algorithm} if algorithm else {}
        answer = client.upload_part(
            Bucket=bucket,
            Key=key,
            UploadId=upload["UploadId"],
            PartNumber=number,
            Body=DATA[start : start + size],
            **extra,
        )
        part = {"PartNumber": number, "ETag": answer["ETag"]}
        part.update({k: v for k, v in answer.items() if k.startswith("Checksum")})
        parts.append(part)
        start += size
    try:
        client.complete_multipart_upload(
            Bucket=bucket,
            Key=key,
            UploadId=upload["UploadId"],
            MultipartUpload={"Parts": parts},
        )
    except client.exceptions.ClientError as exc:
        client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"])
        return exc.response["ResponseMetadata"]["HTTPStatusCode"], {
            "error": exc.response["Error"]["Code"]
        }
    got = client.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    headers = {
        k: v for k, v in got["ResponseMetadata"]["HTTPHeaders"].items() if k not in _RANDOM_HEADERS
    }
    assert got["Body"].read() == DATA[:start]
    headers.pop("last-modified", None)
    return 200, headers


def test_multipart_uploads_complete_as_moto_did(s3_object: tuple[Any, str, str]) -> None:
    client, bucket, _ = s3_object
    shapes = {"three parts": [PART, PART, 1000], "one part": [1000], "small first": [1000, PART]}
    cases = [
        (name, options, sizes)
        for name, options in MULTIPART_CASES.items()
        for sizes in shapes.values()
    ]
    moto_patches.uninstall()
    try:
        before = [_multipart(client, bucket, f"mp-{i}", o, s) for i, (_, o, s) in enumerate(cases)]
    finally:
        moto_patches.install()
    after = [_multipart(client, bucket, f"mp-{i}", o, s) for i, (_, o, s) in enumerate(cases)]
    for (name, _, sizes), old, new in zip(cases, before, after, strict=True):
        assert new == old, f"{name} {sizes}"
    statuses = {status for status, _ in after}
    assert statuses == {200, 400}  # "small first" is EntityTooSmall
    for i in range(len(cases)):
        client.delete_object(Bucket=bucket, Key=f"mp-{i}")


def test_multipart_etag_is_s3s(s3_object: tuple[Any, str, str]) -> None:
    moto_patches.install()
    client, bucket, _ = s3_object
    _multipart(client, bucket, "mp-etag", {}, [PART, PART, 1000])
    md5s = b"".join(
        hashlib.md5(DATA[a:b]).digest()
        for a, b in ((0, PART), (PART, 2 * PART), (2 * PART, 2 * PART + 1000))
    )
    head = client.head_object(Bucket=bucket, Key="mp-etag")
    assert head["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-3"'
    assert head["ContentLength"] == 2 * PART + 1000
    client.delete_object(Bucket=bucket, Key="mp-etag")
