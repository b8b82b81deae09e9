"""The steps of statemachines/run_task.asl.json: a hash-partitioned map/reduce.

plan -> Map(partial: one worker per typed Parquet part, writing its groups for all R
buckets into one buckets file) -> Map(reduce: one worker per bucket, reading its slice of
every part's file by ranged GETs, merging and writing output files no larger than
max_file_bytes) -> finish (the result's files, in order).
"""

from __future__ import annotations

from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from sluice.config import settings
from sluice.datasets.models import ErrorInfo, utcnow
from sluice.datasets.rows import load_manifest
from sluice.errors import NotFound
from sluice.step_errors import step_failure
from sluice.store import objects
from sluice.store.arrow_fs import s3_filesystem
from sluice.tasks.aggregate import (
    AggregateSpec,
    bucket_count,
    merge_partials,
    needed_columns,
    partial_aggregate,
    write_outputs,
)
from sluice.tasks.models import (
    OutputFile,
    OutputSpec,
    TaskChanges,
    TaskResult,
    TaskStatus,
    Timings,
)
from sluice.tasks.partials import read_bucket, write_buckets
from sluice.tasks.repository import TaskRepository
from sluice.tasks.workspace import output_key, partial_key, partials_prefix, task_prefix


class TransientError(Exception):
    """A failure worth retrying (the state machine retries it with backoff)."""


class TaskGone(Exception):
    """The task was cancelled or deleted while this step was on its way."""


class TaskRef(BaseModel):
    owner: str
    id: str


class PartRef(BaseModel):
    index: int
    key: str


class TaskPlan(BaseModel):
    task: TaskRef
    spec: AggregateSpec
    output: OutputSpec
    parts: list[PartRef]
    part_count: int
    buckets: list[int]
    bucket_count: int


class PartialInput(BaseModel):
    task: TaskRef
    spec: AggregateSpec
    bucket_count: int
    part: PartRef


class ReduceInput(BaseModel):
    task: TaskRef
    spec: AggregateSpec
    output: OutputSpec
    bucket: int
    part_count: int


class ReducedFile(BaseModel):
    key: str
    bytes: int
    rows: int


class Reduced(BaseModel):
    bucket: int
    files: list[ReducedFile]


class PlanInput(BaseModel):
    task: TaskRef


class Partial(BaseModel):
    """What one part's partial aggregation wrote."""

    part: int
    rows: int
    groups: int


class FinishInput(BaseModel):
    task: TaskRef
    reduced: list[Reduced]


class StepError(BaseModel):
    """What a Catch puts at $.error: Step Functions' Error and Cause."""

    Error: str = "the task failed"
    Cause: str | None = None


class FailInput(BaseModel):
    task: TaskRef
    error: StepError


class Outcome(BaseModel):
    """How the execution ended, as its last step recorded it; dumped without the Nones."""

    status: Literal["succeeded", "failed", "gone"]
    files: int | None = None
    rows: int | None = None
    message: str | None = None


def plan(repo: TaskRepository, ref: TaskRef) -> TaskPlan:
    """Mark the task running and list its parts and buckets."""
    task = repo.get(ref.owner, ref.id)
    if task.data_run is None:
        raise ValueError("the task names no typed data")
    manifest = load_manifest(ref.owner, task.dataset_id, task.data_run)
    typed_bytes = sum(p.bytes for p in manifest.parts)
    buckets = bucket_count(manifest.row_count, typed_bytes, settings().workers)
    now = utcnow()
    started = repo.update(
        ref.owner,
        ref.id,
        TaskChanges(
            status=TaskStatus.RUNNING,
            started_at=now,
            parts=len(manifest.parts),
            buckets=buckets,
            timings=Timings(queued_s=(now - task.created_at).total_seconds()),
        ),
        only_if_status=TaskStatus.QUEUED,
    )
    if started is None:
        raise TaskGone(f"task {ref.id} is no longer queued")
    return TaskPlan(
        task=ref,
        spec=task.spec,
        output=task.output,
        parts=[PartRef(index=i, key=p.key) for i, p in enumerate(manifest.parts)],
        part_count=len(manifest.parts),
        buckets=list(range(buckets)),
        bucket_count=buckets,
    )


def _read_parquet(key: str, columns: list[str] | None = None) -> pa.Table:
    """A part's ``columns``, fetched by ranged reads of just their column chunks."""
    with s3_filesystem().open_input_file(f"{settings().data_bucket}/{key}") as source:
        return pq.read_table(source, columns=columns)


def partial(repo: TaskRepository, payload: PartialInput) -> Partial:
    """Aggregate one part's rows and write its groups for every bucket in one PUT (a
    buckets file, even when every bucket is empty: each reducer reads every part's)."""
    ref = payload.task
    _ensure_running(repo, ref)
    table = _read_parquet(payload.part.key, needed_columns(payload.spec))
    buckets = partial_aggregate(table, payload.spec, payload.bucket_count)
    write_buckets(
        partial_key(ref.owner, ref.id, payload.part.index),
        [rows if rows.num_rows else None for rows in buckets],
    )
    groups = sum(rows.num_rows for rows in buckets)
    counted = repo.update(
        ref.owner, ref.id, TaskChanges(), add_parts_done=1, only_if_status=TaskStatus.RUNNING
    )
    if counted is None:
        raise TaskGone(f"task {ref.id} was cancelled or deleted")
    if counted.parts is not None and counted.parts_done >= counted.parts:
        # The last part's partials are written: the partial phase ends now (reducers may
        # still wait for a worker, locally, so their start would say later).
        repo.update(
            ref.owner,
            ref.id,
            TaskChanges(partials_done_at=utcnow()),
            only_if_status=TaskStatus.RUNNING,
        )
    return Partial(part=payload.part.index, rows=table.num_rows, groups=groups)


def _ensure_running(repo: TaskRepository, ref: TaskRef) -> None:
    """Stop early when the task was cancelled or deleted: its execution is ending."""
    try:
        task = repo.get(ref.owner, ref.id)
    except NotFound as gone:
        raise TaskGone(f"task {ref.id} was deleted") from gone
    if task.status is not TaskStatus.RUNNING:
        raise TaskGone(f"task {ref.id} is {task.status.value}")


def reduce(repo: TaskRepository, payload: ReduceInput) -> Reduced:
    """Merge one bucket's partials from every part and write its output files."""
    ref = payload.task
    _ensure_running(repo, ref)
    bucket = settings().data_bucket
    # Every part wrote its file, so the keys are known: no LIST. Per part, a ranged GET of
    # the bucket's two offsets, and one of its slice if it is not empty.
    keys = [partial_key(ref.owner, ref.id, part) for part in range(payload.part_count)]
    partials = read_bucket(keys, payload.bucket)
    files: list[ReducedFile] = []
    if partials:
        merged = merge_partials(partials, payload.spec)
        written = write_outputs(merged, payload.output.format, payload.output.max_file_bytes)
        for index, (data, rows) in enumerate(written):
            key = output_key(ref.owner, ref.id, payload.bucket, index, payload.output.format)
            content = (
                "text/csv" if payload.output.format == "csv" else "application/vnd.apache.parquet"
            )
            objects.put_bytes(bucket, key, data, content)
            files.append(ReducedFile(key=key, bytes=len(data), rows=rows))
    repo.update(
        ref.owner, ref.id, TaskChanges(), add_buckets_done=1, only_if_status=TaskStatus.RUNNING
    )
    return Reduced(bucket=payload.bucket, files=files)


def finish(repo: TaskRepository, payload: FinishInput) -> Outcome:
    """Record the output files, named in bucket order, and the totals."""
    ref = payload.task
    task = repo.get(ref.owner, ref.id)
    ordered = [f for r in sorted(payload.reduced, key=lambda r: r.bucket) for f in r.files]
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
    objects.delete_prefix(settings().data_bucket, partials_prefix(ref.owner, ref.id))
    if done is None:
        raise TaskGone(f"task {ref.id} ended before it could finish")
    return Outcome(status="succeeded", files=len(files), rows=result.rows)


def fail(repo: TaskRepository, payload: FailInput) -> Outcome:
    """Record the worker's message; a cancelled or deleted task stays as it is."""
    ref = payload.task
    failure = step_failure(payload.error.Error, payload.error.Cause)
    if failure.type == TaskGone.__name__:
        objects.delete_prefix(settings().data_bucket, task_prefix(ref.owner, ref.id))
        return Outcome(status="gone")
    message = failure.message
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
