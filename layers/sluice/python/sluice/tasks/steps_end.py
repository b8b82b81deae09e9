"""A task's last step (``statemachines/run_task.asl.json``): finish (the output files,
in bucket order, and the totals recorded) or fail (the failed step's or child's message
recorded); either removes the task's partials."""

from __future__ import annotations

from sluice.config import settings
from sluice.datasets.lost_inputs import explained
from sluice.datasets.models import ErrorInfo, utcnow
from sluice.datasets.repository import DatasetRepository
from sluice.step_errors import step_failure
from sluice.store import map_results, objects
from sluice.tasks.models import OutputFile, TaskChanges, TaskResult, TaskStatus
from sluice.tasks.repository import TaskRepository
from sluice.tasks.step_models import FailInput, FinishInput, Outcome, Reduced, StepError, TaskRef
from sluice.tasks.steps import TaskGone
from sluice.tasks.workspace import partials_prefix, results_prefix, task_prefix


def finish(repo: TaskRepository, payload: FinishInput) -> Outcome:
    """Record the output files, named in bucket order, and the totals."""
    ref = payload.task
    task = repo.get(ref.owner, ref.id)
    reduced = [
        Reduced.model_validate(result)
        for output in map_results.outputs(payload.reduced)
        for result in output
    ]
    ordered = [f for r in sorted(reduced, key=lambda r: r.bucket) for f in r.files]
    fmt = task.output.format
    files = [
        OutputFile(name=f"part-{i:05d}.{fmt}", bytes=f.bytes, rows=f.rows, key=f.key)
        for i, f in enumerate(ordered)
    ]
    result = TaskResult(
        output_files=files, rows=sum(f.rows for f in files), bytes=sum(f.bytes for f in files)
    )
    now = utcnow()
    started = task.started_at or task.created_at
    partials_done = task.partials_done_at or now
    timings = task.timings.model_copy(
        update={
            "partial_s": round((partials_done - started).total_seconds(), 3),
            "reduce_s": round((now - partials_done).total_seconds(), 3),
            "total_s": round((now - task.created_at).total_seconds(), 3),
        }
    )
    done = repo.update(
        ref.owner,
        ref.id,
        TaskChanges(
            status=TaskStatus.SUCCEEDED,
            progress=1.0,
            finished_at=now,
            result=result,
            timings=timings,
        ),
        only_if_status=TaskStatus.RUNNING,
    )
    # The partials go; the work folder's few lists and results stay with the task (as an
    # ingest's do with its run), a record of its Map Runs, removed when the task is.
    objects.delete_prefix(settings().data_bucket, partials_prefix(ref.owner, ref.id))
    if done is None:
        raise TaskGone(f"task {ref.id} ended before it could finish")
    return Outcome(status="succeeded", files=len(files), rows=result.rows)


def fail(repo: TaskRepository, datasets: DatasetRepository, payload: FailInput) -> Outcome:
    """Record the worker's message (a read of a part that is not there says why: its
    dataset deleted or re-converted meanwhile); a cancelled or deleted task stays as it
    is."""
    ref = payload.task
    caught = payload.error
    if caught.Error == map_results.THRESHOLD_EXCEEDED:
        # A Map failed because a child did: that child's own error, from its results.
        caught = _failed_child(ref) or caught
    failure = step_failure(caught.Error, caught.Cause)
    if failure.type == TaskGone.__name__:
        objects.delete_prefix(settings().data_bucket, task_prefix(ref.owner, ref.id))
        return Outcome(status="gone")
    task = repo.find(ref.owner, ref.id)
    read = [] if task is None else [(task.dataset_id, task.data_run)]
    message = explained(failure, datasets, ref.owner, read, "task")
    failed = TaskChanges(
        status=TaskStatus.FAILED,
        finished_at=utcnow(),
        error=ErrorInfo(code="task_failed", message=message),
    )
    for open_status in (TaskStatus.RUNNING, TaskStatus.QUEUED):
        if repo.update(ref.owner, ref.id, failed, only_if_status=open_status):
            break
    objects.delete_prefix(settings().data_bucket, task_prefix(ref.owner, ref.id))
    return Outcome(status="failed", message=message)


def _failed_child(ref: TaskRef) -> StepError | None:
    """The error of the first part's (or bucket's) failed child in the task's
    Distributed Maps, from what their ResultWriters wrote."""
    prefix = results_prefix(ref.owner, ref.id)
    bucket = settings().data_bucket
    first = map_results.first_failure(bucket, prefix, "index") or map_results.first_failure(
        bucket, prefix, "bucket"
    )
    return None if first is None else StepError(Error=first.Error, Cause=first.Cause)
