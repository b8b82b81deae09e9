"""The train_model state machine's Lambda steps around the trainer's task: Prepare (is
the job still queued, where does the task run), Record (it succeeded) and RecordFailure
(it failed: the trainer's own message, or the task's exit code and stop reason)."""

from __future__ import annotations

import json
import os
from typing import Any

from pydantic import BaseModel

from sluice.catalog import CATALOG, TRAINER
from sluice.datasets.models import ErrorInfo, utcnow
from sluice.step_errors import step_failure
from sluice.training.models import OPEN_STATUSES, TrainingChanges, TrainingStatus
from sluice.training.repository import TrainingJobRepository


class JobRef(BaseModel):
    owner: str
    id: str


class StepInput(BaseModel):
    job: JobRef


class CaughtError(BaseModel):
    Error: str = "States.TaskFailed"
    Cause: str | None = None


class FailureInput(StepInput):
    error: CaughtError


class Prepared(BaseModel):
    """Whether to run the trainer, and where (``ecs:runTask.sync``'s parameters)."""

    go: bool
    cluster: str = ""
    task_definition: str = ""
    subnets: list[str] = []
    security_groups: list[str] = []
    container: str = ""


def _ids(name: str) -> list[str]:
    return [part for part in os.environ.get(name, "").split(",") if part]


def prepare(repo: TrainingJobRepository, ref: JobRef) -> Prepared:
    """Run the trainer only for a job still queued (a cancel or delete may come first)."""
    job = repo.find(ref.owner, ref.id)
    if job is None or job.status is not TrainingStatus.QUEUED:
        return Prepared(go=False)
    return Prepared(
        go=True,
        cluster=os.environ["SLUICE_TRAINER_CLUSTER"],
        task_definition=os.environ["SLUICE_TRAINER_TASK_DEFINITION"],
        subnets=_ids("SLUICE_TRAINER_SUBNETS"),
        security_groups=_ids("SLUICE_TRAINER_SECURITY_GROUPS"),
        container=CATALOG.container_task(TRAINER).container_name,
    )


def record(repo: TrainingJobRepository, ref: JobRef) -> None:
    """The task exited 0: the running job succeeded (a cancelled one stays cancelled)."""
    job = repo.find(ref.owner, ref.id)
    if job is None or job.status is not TrainingStatus.RUNNING:
        return
    now = utcnow()
    timings = job.timings.model_copy(update={"total_s": (now - job.created_at).total_seconds()})
    repo.update(
        ref.owner,
        ref.id,
        TrainingChanges(
            status=TrainingStatus.SUCCEEDED, progress=1.0, finished_at=now, timings=timings
        ),
        only_if_status=TrainingStatus.RUNNING,
    )


def task_failure(error: CaughtError) -> str:
    """The failure in words: a stopped task's exit code, its container's reason and the
    task's stop reason (the cause of a failed ``ecs:runTask.sync`` is the task as JSON),
    or a Lambda step's own message."""
    try:
        task: Any = json.loads(error.Cause or "")
    except ValueError:
        task = None
    if not isinstance(task, dict) or "Containers" not in task:
        return step_failure(error.Error, error.Cause).message
    parts = []
    for container in task.get("Containers") or []:
        code = container.get("ExitCode")
        said = f": {container['Reason']}" if container.get("Reason") else ""
        parts.append(f"the trainer exited with code {code}{said}" if code is not None else said)
    stopped = task.get("StoppedReason")
    if stopped:
        parts.append(f"({stopped})")
    return " ".join(part for part in parts if part) or "the trainer's task failed"


def record_failure(repo: TrainingJobRepository, ref: JobRef, error: CaughtError) -> None:
    """Mark an open job failed: with the error the trainer wrote before it exited, else
    with what the task's end says."""
    job = repo.find(ref.owner, ref.id)
    if job is None or job.status not in OPEN_STATUSES:
        return  # cancelled or deleted: nothing to record
    info = job.error or ErrorInfo(code="training_failed", message=task_failure(error))
    repo.update(
        ref.owner,
        ref.id,
        TrainingChanges(status=TrainingStatus.FAILED, finished_at=utcnow(), error=info),
        only_if_status=job.status,
    )
