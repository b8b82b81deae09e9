"""S3 multipart uploads: begun here, their parts sent by the client to presigned URLs.

One presigned POST carries at most 5 GiB; a multipart upload carries up to 10,000 parts
of up to 5 GiB each, and S3 joins them into one object when it is completed, which
fires the same ObjectCreated notification a POST does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sluice import aws


class NoSuchUpload(Exception):
    """S3 knows no multipart upload by that id for that key (never begun, or ended)."""


class PartsRefused(Exception):
    """S3 refused to join the parts (a part is missing, out of order or too small)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def begin(bucket: str, key: str, content_type: str) -> str:
    """Begin a multipart upload of ``key``; its S3 upload id."""
    answer = aws.client("s3").create_multipart_upload(
        Bucket=bucket, Key=key, ContentType=content_type
    )
    upload_id: str = answer["UploadId"]
    return upload_id


def presigned_part_url(bucket: str, key: str, upload_id: str, number: int, expires_in: int) -> str:
    """A URL that PUTs part ``number`` of the upload (S3 answers with the part's ETag)."""
    url: str = aws.client("s3").generate_presigned_url(
        "upload_part",
        Params={"Bucket": bucket, "Key": key, "UploadId": upload_id, "PartNumber": number},
        ExpiresIn=expires_in,
    )
    return url


def ensure_open(bucket: str, key: str, upload_id: str) -> None:
    """Raise :class:`NoSuchUpload` unless ``upload_id`` is an open upload of ``key``.

    S3 ties an upload id to its key, but moto finds an upload by its id alone (and
    completes it at its own key whatever key the request names); asking S3 which
    uploads of ``key`` are open holds in both."""
    s3 = aws.client("s3")
    pages = s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=key)
    for page in pages:
        for upload in page.get("Uploads", []):
            if upload["Key"] == key and upload["UploadId"] == upload_id:
                return
    raise NoSuchUpload(f"no open upload {upload_id} of {key}")


def landed_parts(bucket: str, key: str, upload_id: str) -> dict[int, tuple[int, str]]:
    """The parts S3 holds for the upload: number -> (bytes, ETag without quotes)."""
    ensure_open(bucket, key, upload_id)
    s3 = aws.client("s3")
    parts: dict[int, tuple[int, str]] = {}
    with _known_errors():
        pages = s3.get_paginator("list_parts").paginate(Bucket=bucket, Key=key, UploadId=upload_id)
        for page in pages:
            for part in page.get("Parts", []):
                parts[part["PartNumber"]] = (part["Size"], part["ETag"].strip('"'))
    return parts


def complete(bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
    """Join the parts (number, ETag), in that order, into the object ``key``."""
    listed = [{"PartNumber": number, "ETag": f'"{etag}"'} for number, etag in parts]
    with _known_errors():
        aws.client("s3").complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": listed}
        )


def abort(bucket: str, key: str, upload_id: str) -> None:
    """End the upload and drop the parts it holds."""
    ensure_open(bucket, key, upload_id)
    with _known_errors():
        aws.client("s3").abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)


@contextmanager
def _known_errors() -> Iterator[None]:
    """S3's answers about the upload as this module's exceptions; others as they are."""
    try:
        yield
    except aws.client("s3").exceptions.ClientError as error:
        _raise_known(error)
        raise


def _raise_known(error: Any) -> None:
    code = error.response["Error"]["Code"]
    message = error.response["Error"].get("Message", code)
    if code in ("NoSuchUpload", "404"):
        raise NoSuchUpload(message) from error
    if code in ("InvalidPart", "InvalidPartOrder", "EntityTooSmall"):
        raise PartsRefused(code, message) from error
