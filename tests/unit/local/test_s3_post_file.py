"""sluice.local.patches.s3_post_file: a presigned POST's file is stored as the form
parser wrote it, never read whole into memory, and lands as moto would store it."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from moto.s3.models import s3_backends
from sluice.local.patches import s3_post_file, s3_post_policy, s3_writes
from urllib3 import encode_multipart_formdata

from tests.unit.local.s3_server import own_bucket

LARGE = 24 * 1024 * 1024
"""Past moto's in-memory buffer (5 MiB), as a dataset's upload is."""


@pytest.fixture(scope="module")
def s3_bucket() -> Iterator[tuple[Any, str]]:
    s3_writes.install()
    s3_post_file.install()
    # Other tests of this process may have had the embedded S3 check POST policies.
    s3_post_policy.trust("test", "test")
    with own_bucket() as (client, bucket):
        yield client, bucket
    s3_post_file.uninstall()


def _form(client: Any, bucket: str, key: str, body: bytes) -> tuple[str, bytes, str]:
    """The URL, encoded body and content type of a presigned POST of ``body``."""
    post = client.generate_presigned_post(Bucket=bucket, Key=key, ExpiresIn=600)
    fields = [*post["fields"].items(), ("file", ("data.csv", body, "text/csv"))]
    encoded, content_type = encode_multipart_formdata(fields)
    return post["url"], encoded, content_type


def _stored_key(bucket: str, key: str) -> Any:
    return s3_backends["123456789012"]["aws"].get_object(bucket, key)


def test_a_large_posted_file_lands_byte_for_byte_with_its_md5_as_etag(
    s3_bucket: tuple[Any, str],
) -> None:
    client, bucket = s3_bucket
    body = os.urandom(LARGE)
    url, encoded, content_type = _form(client, bucket, "uploads/large.csv", body)
    answer = requests.post(url, data=encoded, headers={"Content-Type": content_type}, timeout=60)
    assert answer.status_code == 204
    stored = client.get_object(Bucket=bucket, Key="uploads/large.csv")
    assert stored["ContentLength"] == LARGE
    assert stored["Body"].read() == body
    assert stored["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'


def test_a_large_posted_file_is_never_held_whole_in_memory(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    url, encoded, content_type = _form(client, bucket, "uploads/streamed.csv", os.urandom(LARGE))
    # The server runs in this process: what it allocates while it stores the file is
    # traced (the request's body was encoded before).
    tracemalloc.start()
    try:
        answer = requests.post(
            url, data=encoded, headers={"Content-Type": content_type}, timeout=60
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.status_code == 204
    # moto read the file into one bytes object: a peak past the file's size.
    assert peak < LARGE // 4


def test_the_stored_file_stays_open_once_the_request_is_closed(
    s3_bucket: tuple[Any, str],
) -> None:
    # Closing a request closes its form's files: the object's must not be one of them.
    client, bucket = s3_bucket
    url, encoded, content_type = _form(client, bucket, "uploads/kept.csv", os.urandom(LARGE))
    requests.post(url, data=encoded, headers={"Content-Type": content_type}, timeout=60)
    buffer = _stored_key(bucket, "uploads/kept.csv")._value_buffer
    assert buffer._rolled  # on file, not in memory
    assert not buffer.closed


def test_a_small_posted_file_lands(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    url, encoded, content_type = _form(client, bucket, "uploads/small.csv", b"a,b\n1,2\n")
    answer = requests.post(url, data=encoded, headers={"Content-Type": content_type}, timeout=60)
    assert answer.status_code == 204
    assert client.get_object(Bucket=bucket, Key="uploads/small.csv")["Body"].read() == (
        b"a,b\n1,2\n"
    )


def test_a_file_sent_as_a_plain_field_lands_as_moto_stores_it(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    post = client.generate_presigned_post(Bucket=bucket, Key="uploads/field.csv", ExpiresIn=600)
    answer = requests.post(post["url"], data={**post["fields"], "file": "x,y\n3,4\n"}, timeout=60)
    assert answer.status_code == 204
    assert client.get_object(Bucket=bucket, Key="uploads/field.csv")["Body"].read() == (
        b"x,y\n3,4\n"
    )
