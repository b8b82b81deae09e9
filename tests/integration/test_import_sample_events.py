"""The model import's sample events (events/on_model_upload/, events/networks/import_model*)
drive their functions on the embedded AWS. ``events/networks/model.keras`` is the file
they name (its size and MD5, the ETag S3 gives it): the round trip's MLP, saved by Keras."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sluice.config import settings
from sluice.errors import NotFound
from sluice.networks.import_jobs import execution_name
from sluice.networks.import_models import ImportJob, ImportStatus
from sluice.networks.import_repository import ImportJobRepository

from tests.model_files import MLP
from tests.support import invoke, load_event, project_path, put_unnoticed, wait_for

pytestmark = pytest.mark.usefixtures("local")
SAMPLE = load_event("networks/import_model")["job"]


def sample_job(status: ImportStatus, execution: str | None = None) -> ImportJobRepository:
    """The samples' job, recorded afresh in ``status``."""
    repo = ImportJobRepository(settings().table)
    with contextlib.suppress(NotFound):
        repo.delete(SAMPLE["owner"], SAMPLE["id"])
    now = datetime.now(UTC)
    repo.create(
        SAMPLE["owner"],
        ImportJob(
            id=SAMPLE["id"],
            filename="model.keras",
            bytes=SAMPLE["size"],
            graph_name="sample",
            create_graph=False,
            status=status,
            execution=execution,
            upload_key=SAMPLE["key"],
            upload_expires_at=now + timedelta(hours=1),
            created_at=now,
            updated_at=now,
        ),
    )
    return repo


def test_the_upload_event_claims_the_queued_job_and_starts_its_import() -> None:
    repo = sample_job(ImportStatus.QUEUED)
    run = execution_name(SAMPLE["id"], SAMPLE["etag"])
    assert invoke("on_model_upload", load_event("on_model_upload/object_created")) == {
        "started": [run]
    }

    # No file was put: the import it started finds none, and says so.
    def failed() -> ImportJob | None:
        job = repo.get(SAMPLE["owner"], SAMPLE["id"])
        return job if job.status is ImportStatus.FAILED else None

    ended = wait_for(failed, 60, "the sample import to end")
    assert (ended.execution, ended.error and ended.error.code) == (run, "upload_gone")


def test_the_import_event_imports_the_sample_model(local: Any) -> None:
    repo = sample_job(ImportStatus.PROCESSING, execution="sample")
    body = project_path("events", "networks", "model.keras").read_bytes()
    # The job's own file, landed and claimed: its notification does not run again.
    put_unnoticed(local.client("s3"), SAMPLE["bucket"], SAMPLE["key"], body)
    assert invoke("networks_import", load_event("networks/import_model")) == {"status": "succeeded"}
    job = repo.get(SAMPLE["owner"], SAMPLE["id"])
    assert job.status is ImportStatus.SUCCEEDED and job.parameter_count == 161
    assert job.graph_payload is not None
    assert [(n.id, n.type, n.params) for n in job.graph_payload.nodes] == [
        (n.id, n.type, n.params) for n in MLP.nodes
    ]


def test_the_failure_event_records_the_job_failed() -> None:
    repo = sample_job(ImportStatus.PROCESSING, execution="sample")
    answer: Any = invoke("networks_import", load_event("networks/import_model_failure"))
    message = "the import could not finish (Lambda.Unknown); try again"
    assert answer == {"status": "failed", "error": {"code": "import_failed", "message": message}}
    assert repo.get(SAMPLE["owner"], SAMPLE["id"]).status is ImportStatus.FAILED
