"""What the API does with tasks: start, cancel, delete, and BMAT's result semantics."""

from __future__ import annotations

import contextlib
import json
import uuid

from sluice import aws
from sluice.config import Settings
from sluice.datasets.models import DatasetStatus, utcnow
from sluice.datasets.repository import DatasetRepository
from sluice.datasets.rows import typed_manifest
from sluice.errors import Conflict, SluiceError, Unprocessable
from sluice.store import objects
from sluice.tasks.aggregate import validate_spec
from sluice.tasks.models import (
    OPEN_STATUSES,
    Task,
    TaskChanges,
    TaskCreate,
    TaskResult,
    TaskStatus,
    run_name,
)
from sluice.tasks.repository import TaskRepository
from sluice.tasks.workspace import task_prefix


class TooEarly(SluiceError):
    status = 425
    code = "too_early"


class TaskNotSucceeded(SluiceError):
    status = 406
    code = "task_failed"


def start_task(
    cfg: Settings,
    datasets: DatasetRepository,
    tasks: TaskRepository,
    owner: str,
    dataset_id: str,
    body: TaskCreate,
) -> Task:
    """Check the request against the dataset's schema, record the task, start its run.

    A dataset that is not ready is refused (409) rather than waited for: the caller
    knows best whether to wait, and a task never runs on a schema that may change.
    """
    dataset = datasets.get(owner, dataset_id)
    if dataset.status is not DatasetStatus.READY or not dataset.data_run:
        raise Conflict(
            f"dataset {dataset_id} is not ready (status {dataset.status.value}); "
            "start the task once it is",
            {"status": dataset.status.value},
        )
    spec = body.spec()
    schema = {c.name: c.effective_type for c in typed_manifest(dataset).columns}
    problems = validate_spec(spec, schema)
    if problems:
        raise Unprocessable(problems[0], {"problems": problems})
    now = utcnow()
    task = Task(
        id=uuid.uuid4().hex,
        owner=owner,
        dataset_id=dataset_id,
        spec=spec,
        output=body.output,
        created_at=now,
        updated_at=now,
        data_run=dataset.data_run,
    )
    task.run = run_name(task.id)
    tasks.create(task)
    aws.client("stepfunctions").start_execution(
        stateMachineArn=cfg.task_state_machine_arn,
        name=task.run,
        input=json.dumps({"task": {"owner": owner, "id": task.id}}),
    )
    return task


def execution_arn(cfg: Settings, name: str) -> str:
    return aws.execution_arn(cfg.task_state_machine_arn, name)


def cancel_task(cfg: Settings, tasks: TaskRepository, owner: str, task_id: str) -> Task:
    """Stop a queued or running task; its partial files are removed, none become results."""
    task = tasks.get(owner, task_id)
    if task.status not in OPEN_STATUSES:
        raise Conflict(f"task {task_id} has already ended ({task.status.value})")
    # Open, not the status just read: Plan may have made a queued task running since.
    cancelled = tasks.update(
        owner,
        task_id,
        TaskChanges(status=TaskStatus.CANCELLED, finished_at=utcnow()),
        only_if_status=OPEN_STATUSES,
    )
    if cancelled is None:  # it ended meanwhile
        return tasks.get(owner, task_id)
    _stop(cfg, cancelled)
    objects.delete_prefix(cfg.data_bucket, task_prefix(owner, task_id))
    return cancelled


def _stop(cfg: Settings, task: Task) -> None:
    if task.run:
        sfn = aws.client("stepfunctions")
        with contextlib.suppress(sfn.exceptions.ExecutionDoesNotExist):
            sfn.stop_execution(executionArn=execution_arn(cfg, task.run), cause="cancelled")


def delete_task(cfg: Settings, tasks: TaskRepository, owner: str, task_id: str) -> None:
    """Delete the task, stopping it first if it still runs, and its files."""
    task = tasks.get(owner, task_id)
    tasks.delete(owner, task_id)
    if task.status in OPEN_STATUSES:
        _stop(cfg, task)
    objects.delete_prefix(cfg.data_bucket, task_prefix(owner, task_id))


def task_result(cfg: Settings, tasks: TaskRepository, owner: str, task_id: str) -> TaskResult:
    """BMAT's semantics: 425 while queued or running, 406 after a failure, else the files."""
    task = tasks.get(owner, task_id)
    if task.status in OPEN_STATUSES:
        raise TooEarly(
            f"task {task_id} is {task.status.value} ({task.progress:.0%}); ask again later",
            {"status": task.status.value, "progress": task.progress},
        )
    if task.status is not TaskStatus.SUCCEEDED or task.result is None:
        reason = task.error.message if task.error else f"the task was {task.status.value}"
        raise TaskNotSucceeded(reason, {"status": task.status.value})
    files = [
        f.model_copy(update={"url": objects.presigned_get(cfg.data_bucket, f.key, 3600, f.name)})
        for f in task.result.output_files
    ]
    return task.result.model_copy(update={"output_files": files})
