"""A small CSV sent in the request body instead of through a presigned POST."""

from __future__ import annotations

from sluice.config import Settings
from sluice.datasets import duplicates, service, tickets
from sluice.datasets.content_hash import content_hash
from sluice.datasets.models import Dataset, DatasetChanges
from sluice.datasets.repository import DatasetRepository
from sluice.errors import BadRequest, Conflict, PayloadTooLarge
from sluice.store import objects

INLINE_MAX_BYTES = 5 * 1024 * 1024
"""API Gateway and Lambda carry a few MB; larger files go through the presigned POST."""


def store_inline(
    cfg: Settings,
    repo: DatasetRepository,
    owner: str,
    dataset_id: str,
    body: bytes,
    *,
    allow_duplicate: bool,
) -> Dataset:
    """Store ``body`` as the dataset's next upload, which starts its ingest as a POST's
    would. Content another of the owner's datasets holds is refused (Conflict, naming
    it) unless ``allow_duplicate``. The API's put is an upload like any other: its
    ticket is recorded first (``sluice.datasets.tickets``), so that on_upload takes it."""
    if not body:
        raise BadRequest("the request body is empty: send the CSV as the body")
    if len(body) > INLINE_MAX_BYTES:
        raise PayloadTooLarge(
            f"inline content is limited to {INLINE_MAX_BYTES} bytes; this is {len(body)}: "
            "upload it with POST /datasets/{id}/upload instead"
        )
    dataset = repo.get(owner, dataset_id)
    holder = duplicates.holder_of(cfg.table, owner, content_hash(body), dataset_id)
    if holder and not allow_duplicate:
        raise Conflict(f"the same content is already in dataset {holder}", {"dataset_id": holder})
    if allow_duplicate:
        repo.update(owner, dataset_id, DatasetChanges(allow_duplicate=True))
    upload = tickets.issue(repo, dataset, "inline", cfg.upload_url_ttl_s)
    objects.put_bytes(
        cfg.upload_bucket, service.upload_key(owner, dataset_id, upload), body, "text/csv"
    )
    return repo.get(owner, dataset_id)
