"""Uploads in parts, for files over the 5 GiB one presigned POST carries.

The client asks for an upload of so many bytes and gets one presigned PUT URL per
part. It sends each part to its URL (in parallel, retrying any that fail) and keeps
the ETag S3 answers with. It then names the parts and their ETags to complete the
upload. S3 joins the parts into the dataset's file, and its ObjectCreated notification
starts the ingest, as a POST's does.

The upload's id is the name of the key it lands at plus S3's own upload id. The name's
ticket is recorded on the dataset when the upload begins (``sluice.datasets.tickets``)
and kept until the joined file is ingested or the upload aborted: completing needs it.
A dataset's key is built from its owner and id, so an upload id taken to another user's
or another dataset's routes names no upload there (404).
"""

from __future__ import annotations

import math

from pydantic import BaseModel, Field, field_validator

from sluice.config import GIB, MIB, Settings
from sluice.datasets import tickets
from sluice.datasets.models import Dataset
from sluice.datasets.repository import DatasetRepository
from sluice.datasets.service import upload_key
from sluice.errors import BadRequest, NotFound, PayloadTooLarge, Unprocessable
from sluice.store import multipart

MIN_PART_BYTES = 5 * MIB
"""S3's smallest part, except the last."""
MAX_PART_BYTES = 5 * GIB
"""S3's largest part."""
MAX_PARTS = 1_000
"""Parts presigned in one answer (S3 allows 10,000; a thousand URLs are ~700 KB)."""
DEFAULT_PART_BYTES = 64 * MIB
"""A part a browser can resend cheaply when it fails, as large as a chunk."""

UPLOAD_ID = r"^[0-9a-f]{12}\.[A-Za-z0-9._~\-]{1,1024}$"


class MultipartStart(BaseModel):
    """Begin an upload in parts of a file of ``bytes`` bytes."""

    bytes: int = Field(gt=0, description="The file's size in bytes.")
    part_bytes: int | None = Field(
        None,
        ge=MIN_PART_BYTES,
        le=MAX_PART_BYTES,
        description="Bytes per part (every part but the last); 64 MiB or more by default.",
    )


class PartTicket(BaseModel):
    """PUT bytes ``[offset, offset + bytes)`` of the file to ``url``; keep the ETag."""

    number: int
    offset: int
    bytes: int
    url: str


class PartUrl(BaseModel):
    number: int
    url: str


class MultipartTicket(BaseModel):
    upload_id: str
    part_bytes: int
    parts: list[PartTicket]
    expires_in: int


class CompletedPart(BaseModel):
    number: int = Field(ge=1, le=MAX_PARTS)
    etag: str = Field(min_length=1, max_length=200, description="As S3 answered the PUT.")

    @field_validator("etag")
    @classmethod
    def _unquoted(cls, value: str) -> str:
        # S3 answers the ETag in quotes; clients keep them or not.
        return value.strip('"')


class MultipartComplete(BaseModel):
    upload_id: str = Field(pattern=UPLOAD_ID)
    parts: list[CompletedPart] = Field(min_length=1, max_length=MAX_PARTS)


class MultipartAbort(BaseModel):
    upload_id: str = Field(pattern=UPLOAD_ID)


class MultipartRenew(BaseModel):
    """Fresh URLs for parts of an upload still open, once its first ones have expired."""

    upload_id: str = Field(pattern=UPLOAD_ID)
    numbers: list[int] = Field(
        min_length=1, max_length=MAX_PARTS, description="The parts to presign again."
    )

    @field_validator("numbers")
    @classmethod
    def _valid_numbers(cls, numbers: list[int]) -> list[int]:
        if any(not 1 <= n <= MAX_PARTS for n in numbers) or len(set(numbers)) != len(numbers):
            raise ValueError(f"each part number once, from 1 to {MAX_PARTS}")
        return numbers


class LandedPart(BaseModel):
    """A part S3 already holds: the client may skip it, naming this ETag to complete."""

    number: int
    bytes: int
    etag: str


class MultipartRenewal(BaseModel):
    upload_id: str
    parts: list[PartUrl]
    landed: list[LandedPart]
    expires_in: int


def part_bytes_for(total: int, requested: int | None) -> int:
    """The size of every part but the last: ``requested`` if it makes at most
    :data:`MAX_PARTS` parts; else the default, grown (in whole MiB) until it does."""
    if requested is not None:
        parts = math.ceil(total / requested)
        if parts > MAX_PARTS:
            raise Unprocessable(
                f"body.part_bytes: {requested} bytes a part makes {parts} parts of a"
                f" {total}-byte file; at most {MAX_PARTS}",
                {"field": "part_bytes"},
            )
        return requested
    smallest = math.ceil(math.ceil(total / MAX_PARTS) / MIB) * MIB
    size = max(DEFAULT_PART_BYTES, smallest)
    if size > MAX_PART_BYTES:
        raise PayloadTooLarge(
            f"body.bytes: a {total}-byte file needs parts over S3's {MAX_PART_BYTES}",
            {"field": "bytes"},
        )
    return size


def start(
    cfg: Settings, repo: DatasetRepository, owner: str, dataset_id: str, body: MultipartStart
) -> MultipartTicket:
    """Begin an upload in parts of the dataset's file and presign each part."""
    dataset = repo.get(owner, dataset_id)
    if body.bytes > cfg.max_upload_bytes:
        raise PayloadTooLarge(
            f"body.bytes: the file is {body.bytes} bytes; the limit is {cfg.max_upload_bytes}",
            {"field": "bytes", "max_bytes": cfg.max_upload_bytes},
        )
    size = part_bytes_for(body.bytes, body.part_bytes)
    name = tickets.issue(repo, dataset, "parts", cfg.upload_url_ttl_s)
    key = upload_key(owner, dataset_id, name)
    s3_id = multipart.begin(cfg.upload_bucket, key, "text/csv")
    parts = [
        PartTicket(
            number=number,
            offset=(number - 1) * size,
            bytes=min(size, body.bytes - (number - 1) * size),
            url=multipart.presigned_part_url(
                cfg.upload_bucket, key, s3_id, number, cfg.upload_url_ttl_s
            ),
        )
        for number in range(1, math.ceil(body.bytes / size) + 1)
    ]
    return MultipartTicket(
        upload_id=f"{name}.{s3_id}",
        part_bytes=size,
        parts=parts,
        expires_in=cfg.upload_url_ttl_s,
    )


def _located(owner: str, dataset_id: str, upload_id: str) -> tuple[str, str]:
    """(key, S3 upload id) of one of our upload ids (its form checked by the models)."""
    name, s3_id = upload_id.split(".", 1)
    return upload_key(owner, dataset_id, name), s3_id


def _no_upload(upload_id: str) -> NotFound:
    return NotFound(f"no upload {upload_id} in progress for this dataset")


def complete(
    cfg: Settings, repo: DatasetRepository, owner: str, dataset_id: str, body: MultipartComplete
) -> Dataset:
    """Join the named parts into the dataset's file, which starts its ingest.

    Every part is checked against what landed first, so that a mistake is named by its
    part number and the upload stays open to fix it; an upload over the size limit is
    ended, its parts dropped."""
    repo.get(owner, dataset_id)
    key, s3_id = _located(owner, dataset_id, body.upload_id)
    numbers = [part.number for part in body.parts]
    if numbers != sorted(set(numbers)):
        raise BadRequest(
            "body.parts: list each part once, in ascending order of number",
            {"field": "parts", "numbers": numbers},
        )
    try:
        landed = multipart.landed_parts(cfg.upload_bucket, key, s3_id)
    except multipart.NoSuchUpload as gone:
        raise _no_upload(body.upload_id) from gone
    for part in body.parts:
        if part.number not in landed:
            raise BadRequest(
                f"body.parts: part {part.number} has not landed; PUT it to its URL first",
                {"field": "parts", "part": part.number},
            )
        if landed[part.number][1] != part.etag:
            raise BadRequest(
                f'body.parts: part {part.number}\'s etag "{part.etag}" is not that of the part'
                f" that landed",
                {"field": "parts", "part": part.number},
            )
    total = sum(landed[number][0] for number in numbers)
    if total > cfg.max_upload_bytes:
        multipart.abort(cfg.upload_bucket, key, s3_id)
        repo.close_ticket(owner, dataset_id, body.upload_id.split(".", 1)[0])
        raise PayloadTooLarge(
            f"the parts hold {total} bytes; the limit is {cfg.max_upload_bytes}",
            {"field": "parts", "max_bytes": cfg.max_upload_bytes},
        )
    try:
        multipart.complete(cfg.upload_bucket, key, s3_id, [(p.number, p.etag) for p in body.parts])
    except multipart.NoSuchUpload as gone:
        raise _no_upload(body.upload_id) from gone
    except multipart.PartsRefused as refused:
        raise BadRequest(
            f"body.parts: {refused}", {"field": "parts", "s3": refused.code}
        ) from refused
    return repo.get(owner, dataset_id)


def abort(
    cfg: Settings, repo: DatasetRepository, owner: str, dataset_id: str, body: MultipartAbort
) -> None:
    """End an upload in parts without a file; S3 drops the parts it holds, and its
    ticket is forgotten."""
    dataset = repo.get(owner, dataset_id)
    key, s3_id = _located(owner, dataset_id, body.upload_id)
    name = body.upload_id.split(".", 1)[0]
    if name in dataset.upload_tickets:
        repo.close_ticket(owner, dataset_id, name)
    try:
        multipart.abort(cfg.upload_bucket, key, s3_id)
    except multipart.NoSuchUpload as gone:
        raise _no_upload(body.upload_id) from gone


def renew(
    cfg: Settings, repo: DatasetRepository, owner: str, dataset_id: str, body: MultipartRenew
) -> MultipartRenewal:
    """Presign parts of an open upload again and say which parts landed, so that an
    upload interrupted for longer than its URLs last resumes instead of starting over.
    The upload's ticket is extended with the new URLs."""
    dataset = repo.get(owner, dataset_id)
    key, s3_id = _located(owner, dataset_id, body.upload_id)
    name = body.upload_id.split(".", 1)[0]
    if name not in dataset.upload_tickets:
        raise _no_upload(body.upload_id)
    try:
        landed = multipart.landed_parts(cfg.upload_bucket, key, s3_id)
    except multipart.NoSuchUpload as gone:
        raise _no_upload(body.upload_id) from gone
    tickets.extend(repo, dataset, name, cfg.upload_url_ttl_s)
    return MultipartRenewal(
        upload_id=body.upload_id,
        parts=[
            PartUrl(
                number=number,
                url=multipart.presigned_part_url(
                    cfg.upload_bucket, key, s3_id, number, cfg.upload_url_ttl_s
                ),
            )
            for number in body.numbers
        ],
        landed=[
            LandedPart(number=number, bytes=size, etag=etag)
            for number, (size, etag) in sorted(landed.items())
        ],
        expires_in=cfg.upload_url_ttl_s,
    )
