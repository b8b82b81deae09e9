"""A bucket of its own on a moto server of its own, for the S3 patches' tests."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

from tests.support import own_moto_server

RANDOM_HEADERS = {"date", "x-amzn-requestid", "x-amz-request-id", "x-amz-id-2"}
"""Answer headers that differ between two answers of the same request."""


@contextlib.contextmanager
def own_bucket() -> Iterator[tuple[Any, str]]:
    """An S3 client and an empty bucket, emptied and deleted afterwards."""
    with own_moto_server("s3") as client:
        # moto's backends are per process: a bucket of our own leaves other tests' state.
        bucket = f"patch-test-{uuid.uuid4().hex[:12]}"
        client.create_bucket(Bucket=bucket)
        try:
            yield client, bucket
        finally:
            for listed in client.list_objects_v2(Bucket=bucket).get("Contents", []):
                client.delete_object(Bucket=bucket, Key=listed["Key"])
            for upload in client.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
                client.abort_multipart_upload(
                    Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
            client.delete_bucket(Bucket=bucket)
