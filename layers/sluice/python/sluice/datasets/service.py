"""What the API does with datasets, over the repository and S3."""

from __future__ import annotations

import contextlib
import uuid

from sluice import aws
from sluice.config import GIB, Settings
from sluice.datasets import duplicates, query_tables, tickets
from sluice.datasets.models import (
    Dataset,
    DatasetChanges,
    DatasetCreate,
    DatasetCreated,
    DatasetUpdate,
    SourceObject,
    UploadTicket,
    utcnow,
)
from sluice.datasets.repository import DatasetRepository
from sluice.datasets.tickets import new_upload_name
from sluice.datasets.workspace import dataset_prefixes
from sluice.store import objects

MAX_POST_BYTES = 5 * GIB
"""The most one presigned POST can carry; larger files go up in parts (multipart)."""


def upload_prefix(owner: str, dataset_id: str) -> str:
    return f"uploads/{owner}/{dataset_id}/"


def upload_key(owner: str, dataset_id: str, upload: str) -> str:
    """Where the upload named ``upload`` (12 hex digits) of a dataset's file lands."""
    return f"{upload_prefix(owner, dataset_id)}{upload}.csv"


def upload_ticket(cfg: Settings, key: str) -> UploadTicket:
    max_bytes = min(cfg.max_upload_bytes, MAX_POST_BYTES)
    post = objects.presigned_post(cfg.upload_bucket, key, max_bytes, cfg.upload_url_ttl_s)
    return UploadTicket(
        url=post["url"],
        fields=post["fields"],
        max_bytes=max_bytes,
        expires_in=cfg.upload_url_ttl_s,
    )


def create_dataset(
    cfg: Settings, repo: DatasetRepository, owner: str, body: DatasetCreate
) -> DatasetCreated:
    """Record a new dataset awaiting its upload, with that upload's ticket, and presign it."""
    dataset_id = uuid.uuid4().hex
    now = utcnow()
    # A fresh key per ticket: a new upload never overwrites the file a ready dataset was built from.
    upload = new_upload_name()
    key = upload_key(owner, dataset_id, upload)
    dataset = Dataset(
        id=dataset_id,
        owner=owner,
        name=body.name,
        path=body.path,
        description=body.description,
        created_at=now,
        updated_at=now,
        source=SourceObject(bucket=cfg.upload_bucket, key=key),
        settings=body.inference_settings(),
        preferred_types=body.column_types,
        allow_duplicate=body.allow_duplicate,
        upload_tickets={upload: tickets.ticket_for("post", cfg.upload_url_ttl_s, now)},
    )
    repo.create(dataset)
    return DatasetCreated(dataset=dataset, upload=upload_ticket(cfg, key))


def renew_upload(
    cfg: Settings, repo: DatasetRepository, owner: str, dataset_id: str
) -> UploadTicket:
    """A fresh presigned upload for an existing dataset (to replace or retry its file),
    its ticket recorded before it is handed out."""
    upload = tickets.issue(repo, repo.get(owner, dataset_id), "post", cfg.upload_url_ttl_s)
    return upload_ticket(cfg, upload_key(owner, dataset_id, upload))


def update_dataset(
    repo: DatasetRepository, owner: str, dataset_id: str, body: DatasetUpdate
) -> Dataset:
    changes = body.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is None:
        del changes["name"]
    if "path" in changes and changes["path"] is None:
        del changes["path"]
    if not changes:
        return repo.get(owner, dataset_id)
    updated = repo.update(owner, dataset_id, DatasetChanges.model_validate(changes))
    if updated is None:
        return repo.get(owner, dataset_id)  # raises NotFound
    return updated


def delete_dataset(cfg: Settings, repo: DatasetRepository, owner: str, dataset_id: str) -> None:
    """Delete the record, stop its ingest if one runs, and remove its Glue table and its
    objects."""
    dataset = repo.get(owner, dataset_id)
    repo.delete(owner, dataset_id)
    duplicates.release(cfg.table, owner, dataset_id, dataset.content_hash)
    # After the record: a Finish registering now finds it gone and removes its own table.
    query_tables.remove(dataset)
    if dataset.busy and dataset.ingest_run:
        sfn = aws.client("stepfunctions")
        arn = execution_arn(cfg, dataset.ingest_run)
        with contextlib.suppress(sfn.exceptions.ExecutionDoesNotExist):
            sfn.stop_execution(executionArn=arn, cause="dataset deleted")
    objects.delete_prefix(cfg.upload_bucket, upload_prefix(owner, dataset_id), versions=True)
    for prefix in dataset_prefixes(owner, dataset_id):
        objects.delete_prefix(cfg.data_bucket, prefix)


def execution_arn(cfg: Settings, name: str) -> str:
    """The ARN of the ingest execution called ``name``."""
    return aws.execution_arn(cfg.ingest_state_machine_arn, name)
