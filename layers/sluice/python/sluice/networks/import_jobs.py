"""Model import jobs (issue 19, item 4): issuing an upload, and starting the import when
the file lands.

A job is recorded ``queued`` before its presigned POST is handed out; its record is the
upload's ticket. The POST's policy holds the key and the exact size the client declared,
so S3 refuses anything else. When the file lands, the S3 notification of ``imports/``
calls ``on_model_upload``, which claims the job (``queued`` -> ``processing`` in one
conditional write, so a cancel and an upload cannot both win) and starts the import
state machine; anything landing under no queued job is deleted. Limits per user are
counted over the pending (queued or processing) jobs, before the job is recorded; the
record lands only if no other job of the user was created since the count began
(``ImportJobRepository.create_unless_raced``), else the count is made again.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger

from sluice import aws
from sluice.config import Settings
from sluice.datasets.models import ErrorInfo, UploadTicket
from sluice.errors import Conflict, PayloadTooLarge, TooManyRequests
from sluice.networks import service
from sluice.networks.graph_models import Graph
from sluice.networks.import_models import (
    PENDING,
    ImportJob,
    ImportJobCreate,
    ImportJobCreated,
    ImportJobRef,
    ImportStatus,
    ImportStepInput,
    ModelUploadNotification,
)
from sluice.networks.import_repository import ImportJobRepository
from sluice.networks.model_archive import extension
from sluice.networks.repository import GraphRepository
from sluice.store import objects

logger = Logger(service="sluice")

PREFIX = "imports/"
UPLOAD_GRACE = timedelta(minutes=15)
"""How long past its URL's expiry a queued job waits for a file still on its way."""
CREATE_TRIES = 5
"""How often a create counts the pending jobs again after another create of the same
user landed between its count and its write."""
_KEY = re.compile(r"^imports/(?P<owner>[^/]+)/(?P<id>[0-9a-f]{32})\.(?:keras|h5|zip)$")


class TooManyPendingImports(TooManyRequests):
    code = "too_many_pending_imports"


class PendingImportBytes(TooManyRequests):
    code = "pending_import_bytes"


def upload_key(owner: str, job_id: str, suffix: str) -> str:
    """Where a job's file lands in the uploads bucket."""
    return f"{PREFIX}{owner}/{job_id}{suffix}"


def pending_jobs(repo: ImportJobRepository, owner: str, now: datetime) -> list[ImportJob]:
    """The owner's queued and processing jobs. A queued job whose upload can no longer
    come is failed here (``upload_expired``), so it stops holding the user's quota."""
    pending = []
    for job in repo.all(owner):
        if job.status is ImportStatus.QUEUED and job.upload_expires_at + UPLOAD_GRACE < now:
            error = ErrorInfo(code="upload_expired", message="no file was uploaded in time")
            repo.move(
                owner,
                job.id,
                ImportStatus.QUEUED,
                ImportStatus.FAILED,
                {"error": error.model_dump()},
            )
            continue
        if job.status in PENDING:
            pending.append(job)
    return pending


def _check_limits(cfg: Settings, repo: ImportJobRepository, owner: str, size: int) -> None:
    if size > cfg.max_import_bytes:
        raise PayloadTooLarge(
            f"the file is {size:,} bytes; an import takes at most {cfg.max_import_bytes:,}",
            {"field": "bytes", "limit": cfg.max_import_bytes},
        )
    pending = pending_jobs(repo, owner, datetime.now(UTC))
    if len(pending) >= cfg.max_pending_imports:
        raise TooManyPendingImports(
            f"{len(pending)} imports are pending (queued or processing); at most "
            f"{cfg.max_pending_imports} at once",
            {"pending": len(pending), "limit": cfg.max_pending_imports},
        )
    held = sum(job.bytes for job in pending)
    if held + size > cfg.max_pending_import_bytes:
        raise PendingImportBytes(
            f"pending imports hold {held:,} bytes; {size:,} more would pass the "
            f"{cfg.max_pending_import_bytes:,} a user may have pending",
            {"pending_bytes": held, "limit": cfg.max_pending_import_bytes},
        )


def create_job(
    cfg: Settings, repo: ImportJobRepository, owner: str, body: ImportJobCreate
) -> ImportJobCreated:
    """Check the file's extension (422), size (413) and the user's pending limits (429),
    record the job queued, and presign its upload: that exact size, at its key."""
    suffix = extension(body.filename)
    for _ in range(CREATE_TRIES):
        seen = repo.creates_seen(owner)
        _check_limits(cfg, repo, owner, body.bytes)
        now = datetime.now(UTC)
        job_id = uuid.uuid4().hex
        job = ImportJob(
            id=job_id,
            filename=body.filename,
            bytes=body.bytes,
            graph_name=body.graph_name or PurePosixPath(body.filename).stem or "imported",
            create_graph=body.create_graph,
            status=ImportStatus.QUEUED,
            upload_key=upload_key(owner, job_id, suffix),
            upload_expires_at=now + timedelta(seconds=cfg.upload_url_ttl_s),
            created_at=now,
            updated_at=now,
        )
        if repo.create_unless_raced(owner, job, seen):
            break
    else:
        raise TooManyRequests(
            f"other imports of this user were started at the same time {CREATE_TRIES} "
            "times over; try again",
            {"tries": CREATE_TRIES},
        )
    post = objects.presigned_post(
        cfg.upload_bucket, job.upload_key, body.bytes, cfg.upload_url_ttl_s, min_bytes=body.bytes
    )
    upload = UploadTicket(
        url=post["url"],
        fields=post["fields"],
        max_bytes=body.bytes,
        expires_in=cfg.upload_url_ttl_s,
    )
    return ImportJobCreated(job=job, upload=upload)


def cancel_job(repo: ImportJobRepository, owner: str, job_id: str) -> ImportJob:
    """Cancel a queued job (409 once its file has landed); its upload is then refused."""
    repo.get(owner, job_id)  # 404 for an unknown job, or another user's
    cancelled = repo.move(owner, job_id, ImportStatus.QUEUED, ImportStatus.CANCELLED)
    if cancelled is None:
        current = repo.get(owner, job_id)
        raise Conflict(
            f"the import job is {current.status.value}; only a queued job can be cancelled",
            {"status": current.status.value},
        )
    return cancelled


def create_graph(
    repo: ImportJobRepository, graphs: GraphRepository, owner: str, job_id: str
) -> Graph:
    """Store the graph a succeeded job produced (409 before it has one)."""
    job = repo.get(owner, job_id)
    if job.status is not ImportStatus.SUCCEEDED or job.graph_payload is None:
        raise Conflict(
            f"the import job is {job.status.value}; a graph comes only from a succeeded one",
            {"status": job.status.value},
        )
    graph = service.create_graph(graphs, owner, job.graph_payload)
    repo.set(owner, job_id, {"graph_id": graph.id})
    return graph


def execution_name(job_id: str, etag: str) -> str:
    """Deterministic, so that a notification delivered twice starts one execution."""
    return f"{job_id}-{re.sub(r'[^0-9A-Za-z]', '', etag)[:24]}"


def on_upload(
    cfg: Settings, repo: ImportJobRepository, event: ModelUploadNotification
) -> list[str]:
    """Start the import of each file the notification names that landed for a queued job;
    delete the others. Returns the executions started."""
    started = []
    for record in event.Records:
        bucket, key = record.s3.bucket.name, unquote_plus(record.s3.object.key)
        size, etag = record.s3.object.size, record.s3.object.eTag
        match = _KEY.match(key)
        job = repo.find(match["owner"], match["id"]) if match else None
        if match is None or job is None or job.upload_key != key:
            objects.delete_landed(bucket, key, etag)
            logger.warning("deleted an upload no import job was issued for", key=key)
            continue
        owner, run = match["owner"], execution_name(job.id, etag)
        if size != job.bytes:  # the POST's policy holds the size; a direct put may not
            objects.delete_landed(bucket, key, etag)
            error = ErrorInfo(
                code="size_mismatch", message=f"{size:,} bytes landed; {job.bytes:,} declared"
            )
            repo.move(
                owner,
                job.id,
                ImportStatus.QUEUED,
                ImportStatus.FAILED,
                {"error": error.model_dump()},
            )
            continue
        claimed = repo.move(
            owner, job.id, ImportStatus.QUEUED, ImportStatus.PROCESSING, {"execution": run}
        )
        if claimed is None:
            current = repo.find(owner, job.id)
            if current is None or current.execution != run:
                # Cancelled, or a file sent again: only this file goes (the uploads bucket
                # keeps versions), so a job's file under import stays, and is read by its
                # ETag whatever lands over it.
                objects.delete_landed(bucket, key, etag)
                logger.warning("refused an upload of a job not queued", key=key, etag=etag)
                continue
            logger.info("import already claimed; starting it again", run=run)
        payload = ImportStepInput(
            job=ImportJobRef(owner=owner, id=job.id, bucket=bucket, key=key, size=size, etag=etag)
        )
        sfn = aws.client("stepfunctions")
        try:
            sfn.start_execution(
                stateMachineArn=cfg.import_state_machine_arn,
                name=run,
                input=payload.model_dump_json(),
            )
        except sfn.exceptions.ExecutionAlreadyExists:
            logger.info("execution already started", run=run)
        started.append(run)
    return started
