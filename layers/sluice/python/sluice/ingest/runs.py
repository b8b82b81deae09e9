"""Starting an ingest run: from an upload's S3 notification, or from an inference
command; each run is one execution of statemachines/ingest_dataset.asl.json."""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger

from sluice import aws
from sluice.config import Settings
from sluice.datasets.models import DatasetChanges, DatasetStatus, ErrorInfo, SourceObject, utcnow
from sluice.datasets.repository import DatasetRepository
from sluice.ingest.models import DatasetRef, IngestInput, ObjectRef, UploadNotification
from sluice.store import objects

logger = Logger(service="sluice")


class Superseded(Exception):
    """A newer run (a new upload, a stop or a re-inference) took the dataset over."""


_UPLOAD_KEY = re.compile(
    r"^uploads/(?P<owner>[^/]+)/(?P<id>[0-9a-f]{32})/(?P<upload>[0-9a-f]{12})\.csv$"
)


def execution_name(dataset_id: str, upload_id: str, etag: str) -> str:
    """Deterministic, so that a notification delivered twice starts one execution."""
    return f"{dataset_id}-{upload_id}-{re.sub(r'[^0-9A-Za-z]', '', etag)[:24]}"


def on_upload(cfg: Settings, repo: DatasetRepository, event: UploadNotification) -> list[str]:
    """Start one ingest per object an S3 notification names; returns the runs started."""
    started: list[str] = []
    for record in event.Records:
        s3 = record.s3
        bucket, key = s3.bucket.name, unquote_plus(s3.object.key)
        size, etag = s3.object.size, s3.object.eTag
        match = _UPLOAD_KEY.match(key)
        if match is None:  # no ticket names such a key
            objects.delete_landed(bucket, key, etag)
            logger.warning("deleted an object outside the upload layout", key=key)
            continue
        run = _accept_upload(
            cfg, repo, match["owner"], match["id"], match["upload"], bucket, key, size, etag
        )
        if run:
            started.append(run)
    return started


def _accept_upload(
    cfg: Settings,
    repo: DatasetRepository,
    owner: str,
    dataset_id: str,
    upload_id: str,
    bucket: str,
    key: str,
    size: int,
    etag: str,
) -> str | None:
    dataset = repo.find(owner, dataset_id)
    if dataset is None:
        objects.delete_landed(bucket, key, etag)  # uploaded after the dataset was deleted
        return None
    ticket = dataset.upload_tickets.get(upload_id)
    if ticket is None or ticket.used not in (None, etag):
        _refuse(bucket, key, etag, "used" if ticket else "never issued", owner, dataset_id)
        return None
    if ticket.used == etag:
        logger.info("upload already accepted", key=key, etag=etag)  # the event delivered again
        return None
    if size > cfg.max_upload_bytes:
        # Checked again after the POST's policy: a file joined from parts is checked only
        # when completing, and the size limit may have changed since the ticket was issued.
        objects.delete_landed(bucket, key, etag)
        message = f"the upload is {size} bytes; the limit is {cfg.max_upload_bytes} bytes"
        keeps_data = dataset.status is DatasetStatus.READY
        changes = DatasetChanges(error=ErrorInfo(code="upload_too_large", message=message))
        if not keeps_data:
            changes.status, changes.progress = DatasetStatus.FAILED, 0.0
        repo.update(owner, dataset_id, changes, use_ticket=(upload_id, etag))
        return None
    run = execution_name(dataset_id, upload_id, etag)
    source = SourceObject(bucket=bucket, key=key, bytes=size, etag=etag)
    started = start_run(cfg, repo, owner, dataset_id, run, source, "full", ticket=upload_id)
    if started is None:
        current = repo.find(owner, dataset_id)
        used = current.upload_tickets.get(upload_id) if current else None
        if (
            current is not None
            and current.ingest_run != run
            and (used is None or used.used != etag)
        ):
            # Another file took the ticket between our read and the claim.
            _refuse(bucket, key, etag, "used", owner, dataset_id)
    return started


def _refuse(bucket: str, key: str, etag: str, ticket: str, owner: str, dataset_id: str) -> None:
    """Delete a file that landed under no open ticket of its dataset, which stays as it was:
    only that file, so that a form sent again, whose file S3 wrote over the dataset's
    source, leaves the source as it was (the uploads bucket keeps versions)."""
    objects.delete_landed(bucket, key, etag)
    logger.warning(
        "deleted an upload that was not issued for its dataset",
        key=key,
        etag=etag,
        ticket=ticket,
        owner=owner,
        dataset=dataset_id,
    )


def start_run(
    cfg: Settings,
    repo: DatasetRepository,
    owner: str,
    dataset_id: str,
    run: str,
    source: SourceObject,
    mode: Literal["full", "reconvert"],
    *,
    ticket: str | None = None,
) -> str | None:
    """Claim the dataset for ``run`` and start its execution; None if ``run`` already
    holds it (the same event or command delivered twice), or if ``ticket``, the upload
    ticket the run's file came with, is not (or no longer) an open ticket of the
    dataset: the claim marks it used by the file's ETag."""
    changes = DatasetChanges(
        status=DatasetStatus.UPLOADED if mode == "full" else DatasetStatus.INFERRING,
        progress=0.0,
        ingest_run=run,
        source=source,
        chunks_done=0,
        parts_done=0,
        ingest_started_at=utcnow(),
    )
    accepted = repo.update(
        owner,
        dataset_id,
        changes,
        remove=("error", "ingest_finished_at", "duplicate_of", "pending_column_count"),
        unless_run=run,
        use_ticket=(ticket, source.etag or "") if ticket else None,
    )
    if accepted is None:
        logger.info("run already started, or its upload ticket used", run=run)
        return None
    stats_run = run if mode == "full" else accepted.stats_run
    if stats_run is None:
        raise ValueError("nothing to re-convert: the dataset has never been scanned")
    if mode == "reconvert":  # no scans to wait for: progress starts at conversion
        repo.update(
            owner,
            dataset_id,
            DatasetChanges(chunks_done=accepted.chunk_count or 0),
            only_if_run=run,
        )
    sfn = aws.client("stepfunctions")
    payload = IngestInput(
        dataset=DatasetRef(owner=owner, id=dataset_id, run=run),
        object=ObjectRef(
            bucket=source.bucket, key=source.key, size=source.bytes or 0, etag=source.etag or ""
        ),
        mode=mode,
        stats_run=stats_run,
    )
    try:
        sfn.start_execution(
            stateMachineArn=cfg.ingest_state_machine_arn, name=run, input=payload.model_dump_json()
        )
    except sfn.exceptions.ExecutionAlreadyExists:
        logger.info("execution already started", run=run)
    return run
