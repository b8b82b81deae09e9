"""pyarrow's S3 filesystem, pointed where boto3 points (the embedded AWS locally)."""

from __future__ import annotations

import os
import threading
from functools import cache
from urllib.parse import urlparse

import pyarrow.fs as pafs

_lock = threading.Lock()


# S3 answers 503 SlowDown to a prefix pushed past its request rate: retry with backoff,
# as often as botocore's standard mode does for the boto3 clients (sluice.aws).
_RETRIES = pafs.AwsStandardS3RetryStrategy(max_attempts=5)


@cache
def _filesystem(endpoint: str | None, region: str) -> pafs.S3FileSystem:
    if not endpoint:
        return pafs.S3FileSystem(region=region, retry_strategy=_RETRIES)
    url = urlparse(endpoint)
    return pafs.S3FileSystem(
        endpoint_override=url.netloc,
        scheme=url.scheme or "https",
        region=region,
        retry_strategy=_RETRIES,
    )


def s3_filesystem() -> pafs.S3FileSystem:
    """A filesystem for ``bucket/key`` paths, reading with ranged GETs."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    with _lock:
        return _filesystem(endpoint, region)
