"""The steps of statemachines/run_task.asl.json: a hash-partitioned map/reduce.

plan (here: the parts' list to S3) -> Partials (``steps_partial``: a Distributed Map, a
batch of parts per worker, the groups of each part, or of a few small parts together, for
all R buckets written into one buckets file) -> gather (``steps_reduce``: every such
file's index read once: the reducers' list, each bucket's byte range in every file, to
S3) -> Reduces (``steps_reduce``: a Distributed Map, a batch of buckets per worker, one
ranged GET per file and bucket, merged, written as output files no larger than
max_file_bytes) -> finish or fail (``steps_end``: the result's files, in order, from the
reducers' results in S3; or the failure). The payloads are in
``sluice.tasks.step_models``; this module also holds what every step shares: its errors
and its checks that the task is still running.
"""

from __future__ import annotations

from typing import NoReturn

from sluice.config import settings
from sluice.datasets.models import utcnow
from sluice.datasets.rows import load_manifest
from sluice.errors import NotFound
from sluice.store import objects
from sluice.store.map_results import ItemsRef, dealt, map_concurrency, put_items
from sluice.tasks.aggregate import bucket_count
from sluice.tasks.models import TaskChanges, TaskStatus, Timings
from sluice.tasks.pieces import partial_batch_size, plan_pieces
from sluice.tasks.repository import TaskRepository
from sluice.tasks.step_models import TaskPlan, TaskRef
from sluice.tasks.workspace import results_prefix, work_prefix


class TransientError(Exception):
    """A failure worth retrying (the state machine retries it with backoff)."""


class TaskGone(Exception):
    """The task was cancelled or deleted while this step was on its way."""


def plan(repo: TaskRepository, ref: TaskRef) -> TaskPlan:
    """Mark the task running and list its parts and buckets."""
    task = repo.get(ref.owner, ref.id)
    if task.data_run is None:
        raise ValueError("the task names no typed data")
    manifest = load_manifest(ref.owner, task.dataset_id, task.data_run)
    typed_bytes = sum(p.bytes for p in manifest.parts)
    buckets = bucket_count(manifest.row_count, typed_bytes, settings().workers)
    # A part larger than PIECE_BYTES is cut into runs of its row groups: a child's work is
    # bounded, whatever size the dataset's writer gave its parts (EXPRESS children).
    parts = plan_pieces([(p.key, p.bytes) for p in manifest.parts])
    now = utcnow()
    started = repo.update(
        ref.owner,
        ref.id,
        TaskChanges(
            status=TaskStatus.RUNNING,
            started_at=now,
            parts=len(parts),
            buckets=buckets,
            timings=Timings(queued_s=(now - task.created_at).total_seconds()),
        ),
        only_if_status=TaskStatus.QUEUED,
    )
    if started is None:
        raise TaskGone(f"task {ref.id} is no longer queued")
    cfg = settings()
    # The parts go to S3 for the Partials Map's ItemReader, not into the state (256 KB).
    # Dealt, so that where a batch is several parts (locally, half of them) the last,
    # short part runs beside the others, as the ingest's chunks and the operations' parts.
    items = ItemsRef(bucket=cfg.data_bucket, key=f"{work_prefix(ref.owner, ref.id)}parts.json")
    concurrency = map_concurrency(cfg)
    batch = partial_batch_size([p.bytes for p in parts], concurrency)
    put_items(items, dealt(parts, batch))
    return TaskPlan(
        task=ref,
        spec=task.spec,
        output=task.output,
        part_count=len(parts),
        bucket_count=buckets,
        parts=items,
        batch=batch,
        concurrency=concurrency,
        results=results_prefix(ref.owner, ref.id),
    )


def ensure_running(repo: TaskRepository, ref: TaskRef) -> None:
    """Stop early when the task was cancelled or deleted: its execution is ending."""
    try:
        task = repo.get(ref.owner, ref.id)
    except NotFound as gone:
        raise TaskGone(f"task {ref.id} was deleted") from gone
    if task.status is not TaskStatus.RUNNING:
        raise TaskGone(f"task {ref.id} is {task.status.value}")


def take_back(ref: TaskRef, keys: list[str]) -> NoReturn:
    """Remove what a step wrote for a task that ended (failed, cancelled or deleted)
    while it ran: the end's clean-up may have listed the task's folder before these
    writes. The end is recorded before its clean-up, and a step checks it after its
    writes, so one of the two always removes them."""
    for key in keys:
        objects.delete_object(settings().data_bucket, key)
    raise TaskGone(f"task {ref.id} was cancelled, failed or deleted while this step ran")
