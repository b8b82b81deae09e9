"""sluice.local.patches.s3_writes: multipart uploads complete part by part, as moto did."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from typing import Any

import pytest
from sluice.local.patches import s3_writes

from tests.unit.local.s3_server import RANDOM_HEADERS, own_bucket

MULTIPART_CASES: dict[str, dict[str, str]] = {
    "sdk default": {},
    "crc32 full object": {"ChecksumAlgorithm": "CRC32", "ChecksumType": "FULL_OBJECT"},
    "crc32 composite": {"ChecksumAlgorithm": "CRC32", "ChecksumType": "COMPOSITE"},
    "sha256 composite": {"ChecksumAlgorithm": "SHA256", "ChecksumType": "COMPOSITE"},
    "sha1 composite": {"ChecksumAlgorithm": "SHA1"},
}
PART = 5 * 1024 * 1024  # the smallest part but the last
DATA = random.Random(20240607).randbytes(2 * PART + 1000)


@pytest.fixture(scope="module")
def s3_bucket() -> Iterator[tuple[Any, str]]:
    """An empty bucket on a moto server of its own; yields (client, bucket)."""
    s3_writes.install()
    with own_bucket() as (client, bucket):
        yield client, bucket


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
        k: v for k, v in got["ResponseMetadata"]["HTTPHeaders"].items() if k not in RANDOM_HEADERS
    }
    assert got["Body"].read() == DATA[:start]
    headers.pop("last-modified", None)
    return 200, headers


def test_multipart_uploads_complete_as_moto_did(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    shapes = {"three parts": [PART, PART, 1000], "one part": [1000], "small first": [1000, PART]}
    cases = [
        (name, options, sizes)
        for name, options in MULTIPART_CASES.items()
        for sizes in shapes.values()
    ]
    s3_writes.uninstall()
    try:
        before = [_multipart(client, bucket, f"mp-{i}", o, s) for i, (_, o, s) in enumerate(cases)]
    finally:
        s3_writes.install()
    after = [_multipart(client, bucket, f"mp-{i}", o, s) for i, (_, o, s) in enumerate(cases)]
    for (name, _, sizes), old, new in zip(cases, before, after, strict=True):
        assert new == old, f"{name} {sizes}"
    statuses = {status for status, _ in after}
    assert statuses == {200, 400}  # "small first" is EntityTooSmall
    for i in range(len(cases)):
        client.delete_object(Bucket=bucket, Key=f"mp-{i}")


def test_multipart_etag_is_s3s(s3_bucket: tuple[Any, str]) -> None:
    s3_writes.install()
    client, bucket = s3_bucket
    _multipart(client, bucket, "mp-etag", {}, [PART, PART, 1000])
    md5s = b"".join(
        hashlib.md5(DATA[a:b]).digest()
        for a, b in ((0, PART), (PART, 2 * PART), (2 * PART, 2 * PART + 1000))
    )
    head = client.head_object(Bucket=bucket, Key="mp-etag")
    assert head["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-3"'
    assert head["ContentLength"] == 2 * PART + 1000
    client.delete_object(Bucket=bucket, Key="mp-etag")
