"""The import state machine's step, in the TensorFlow function: the landed file to a
graph, recorded on its job.

A file the import refuses (a limit, a subclassed model, an unknown layer, Keras's own
refusal) fails the job with its reason and the step ends normally: it is the file's
fault, not the function's. Anything else raises, and the state machine's Catch calls
this step again in failure mode to record the job failed. The upload is deleted once
the job has ended, either way.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger

from sluice import aws
from sluice.config import Settings
from sluice.datasets.models import ErrorInfo
from sluice.networks import service
from sluice.networks.import_models import (
    ImportJobRef,
    ImportStatus,
    ImportStepInput,
    ImportStepResult,
)
from sluice.networks.import_repository import ImportJobRepository
from sluice.networks.model_archive import ImportRefused, extension, prepare
from sluice.networks.model_import import import_model
from sluice.networks.repository import GraphRepository
from sluice.step_errors import step_failure
from sluice.store import objects

logger = Logger(service="sluice")
_CHUNK = 1024 * 1024


def _download(ref: ImportJobRef, target: Path, limit: int) -> None:
    """The landed file, as it was when notified (``IfMatch`` its ETag: a file sent again
    over it is not read instead), within ``limit`` bytes."""
    s3 = aws.client("s3")
    try:
        body = s3.get_object(Bucket=ref.bucket, Key=ref.key, IfMatch=ref.etag)["Body"]
    except s3.exceptions.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("PreconditionFailed", "NoSuchKey", "404", "412"):
            raise ImportRefused("upload_gone", "the uploaded file was replaced or removed") from exc
        raise
    written = 0
    with target.open("wb") as out:
        while chunk := body.read(_CHUNK):
            written += len(chunk)
            if written > limit:
                raise ImportRefused("upload_too_large", f"the upload is over {limit:,} bytes")
            out.write(chunk)


def _finish(
    repo: ImportJobRepository, ref: ImportJobRef, status: ImportStatus, changes: dict[str, Any]
) -> None:
    repo.move(ref.owner, ref.id, ImportStatus.PROCESSING, status, changes)
    objects.delete_every_version(ref.bucket, ref.key)


def _failed(repo: ImportJobRepository, ref: ImportJobRef, error: ErrorInfo) -> ImportStepResult:
    _finish(repo, ref, ImportStatus.FAILED, {"error": error.model_dump()})
    logger.info("import failed", job=ref.id, code=error.code, reason=error.message)
    return ImportStepResult(status=ImportStatus.FAILED, error=error)


def run_import(
    cfg: Settings, repo: ImportJobRepository, graphs: GraphRepository, request: ImportStepInput
) -> ImportStepResult:
    """Import the job's file, or (``request.failure``) record why the import could not."""
    ref = request.job
    job = repo.find(ref.owner, ref.id)
    if job is None or job.status is not ImportStatus.PROCESSING or job.execution is None:
        objects.delete_every_version(ref.bucket, ref.key)
        return ImportStepResult(status=job.status if job else ImportStatus.CANCELLED)
    if request.failure is not None:
        # Its traceback is in the function's log; the client learns what kind of failure.
        failure = step_failure(request.failure.get("Error", ""), request.failure.get("Cause"))
        message = f"the import could not finish ({failure.type}); try again"
        return _failed(repo, ref, ErrorInfo(code="import_failed", message=message))
    try:
        with tempfile.TemporaryDirectory(prefix="sluice-import-") as folder:
            suffix = extension(job.filename)
            upload = Path(folder) / f"upload{suffix}"
            _download(ref, upload, cfg.max_import_bytes)
            graph, parameter_count = import_model(
                prepare(upload, suffix, Path(folder)), job.graph_name
            )
    except ImportRefused as exc:
        return _failed(repo, ref, ErrorInfo(code=exc.code, message=exc.message))
    graph_id = service.create_graph(graphs, ref.owner, graph).id if job.create_graph else None
    changes: dict[str, Any] = {
        "graph_payload": graph.model_dump(mode="json"),
        "parameter_count": parameter_count,
    }
    if graph_id:
        changes["graph_id"] = graph_id
    _finish(repo, ref, ImportStatus.SUCCEEDED, changes)
    return ImportStepResult(status=ImportStatus.SUCCEEDED, graph_id=graph_id)
