"""The steps of statemachines/run_task.asl.json: a hash-partitioned map/reduce.

plan (the parts' list to S3) -> Partials (a Distributed Map: a batch of parts per
worker, the groups of each part, or of a few small parts together, for all R buckets
written into one buckets file) -> gather (every such file's index read once: the
reducers' list, each bucket's byte range in every file, to S3) -> Reduces (a Distributed
Map: a batch of buckets per worker, one ranged GET per file and bucket, merged, written
as output files no larger than max_file_bytes) ->
finish (the result's files, in order, from the reducers' results in S3). The payloads
are in ``sluice.tasks.step_models``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sluice.config import settings
from sluice.datasets.models import ErrorInfo, utcnow
from sluice.datasets.rows import load_manifest
from sluice.errors import NotFound
from sluice.step_errors import step_failure
from sluice.store import map_results, objects
from sluice.store.map_results import (
    SHUFFLE_BATCH,
    ItemsRef,
    dealt,
    map_concurrency,
    put_items,
)
from sluice.store.parquet_parts import read_part
from sluice.tasks.aggregate import (
    bucket_count,
    merge_partials,
    needed_columns,
    partial_aggregate,
    write_outputs,
)
from sluice.tasks.models import OutputFile, TaskChanges, TaskResult, TaskStatus, Timings
from sluice.tasks.partials import READ_THREADS, read_indexes, read_slices, write_buckets
from sluice.tasks.parts_file import PartsFile, schema_of
from sluice.tasks.pieces import partial_batch_size, plan_pieces
from sluice.tasks.repository import TaskRepository
from sluice.tasks.step_models import (
    FailInput,
    FinishInput,
    Gathered,
    GatherInput,
    Outcome,
    Partial,
    PartialBatch,
    PartialInput,
    PartialShared,
    PartRef,
    ReduceBatch,
    Reduced,
    ReducedFile,
    ReduceInput,
    ReduceItem,
    StepError,
    TaskPlan,
    TaskRef,
)
from sluice.tasks.workspace import (
    output_key,
    partial_key,
    partials_prefix,
    results_prefix,
    task_prefix,
    work_prefix,
)


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


WHOLE_PART_BYTES = 4 * 1024 * 1024
"""A part of at most this many bytes is read in one GET: reading its column chunks by
ranges is a request for its size, one for its footer and one or more for its columns."""

GROUP_PART_BYTES = 8 * 1024 * 1024
"""A partial batch aggregates its parts together, and writes one buckets file, while they
are at most this many bytes: a small part's file and its GETs by Gather and each reducer
cost more than its groups. A part of a 64 MiB chunk is more than this alone, so the
partials of large files, and their memory, are one part's as before."""


def _read_parquet(part: PartRef, columns: list[str] | None = None) -> pa.Table:
    """A part's ``columns``: a small part in one GET, a larger one by ranged reads of
    just their column chunks."""
    if part.row_groups is None and 0 < part.bytes <= WHOLE_PART_BYTES:
        data = objects.get_bytes(settings().data_bucket, part.key)
        return pq.read_table(pa.BufferReader(data), columns=columns)
    if part.row_groups is not None:  # a piece of a large part: its row groups only
        first, stop = part.row_groups
        return read_part(part.key, columns, row_groups=range(first, stop))
    return read_part(part.key, columns, part.bytes or None)


def partial(repo: TaskRepository, payload: PartialInput) -> pa.Table:
    """One part's rows, as its group's partial aggregation needs them (``partial_batch``)."""
    return _read_parquet(payload.part, needed_columns(payload.spec))


def partial_batch(repo: TaskRepository, batch: PartialBatch) -> list[Partial]:
    """Aggregate the parts of one ItemBatcher batch, a group of them at a time (up to
    ``GROUP_PART_BYTES``, of one schema), and write the groups of a run of groups (up to
    ``FILE_PART_BYTES`` of parts) for every bucket in one PUT (a buckets file, even when
    every bucket is empty)."""
    shared = batch.BatchInput
    _ensure_running(repo, shared.task)
    written: list[Partial] = []
    current = PartsFile.empty(shared.bucket_count)
    group: list[tuple[int, pa.Table]] = []
    size = 0

    def aggregate() -> None:
        nonlocal current
        table = pa.concat_tables([table for _, table in group])
        buckets = partial_aggregate(table, shared.spec, shared.bucket_count)
        if not current.takes(size, schema_of(buckets)):
            written.append(_write_parts_file(repo, shared, current))
            current = PartsFile.empty(shared.bucket_count)
        current.add([index for index, _ in group], size, table.num_rows, buckets)

    for payload in batch.partials():
        table = partial(repo, payload)
        alike = not group or table.schema.equals(group[0][1].schema)
        if group and (size + payload.part.bytes > GROUP_PART_BYTES or not alike):
            aggregate()
            group, size = [], 0
        group.append((payload.part.index, table))
        size += payload.part.bytes
    if group:
        aggregate()
    if current.parts:
        written.append(_write_parts_file(repo, shared, current))
    return written


def _write_parts_file(repo: TaskRepository, shared: PartialShared, parts: PartsFile) -> Partial:
    """Write a run of parts' buckets file (named by its first part) and count them done."""
    ref = shared.task
    first = parts.parts[0]
    written = partial_key(ref.owner, ref.id, first)
    write_buckets(written, parts.builder)
    counted = repo.update(
        ref.owner,
        ref.id,
        TaskChanges(),
        add_parts_done=len(parts.parts),
        only_if_status=TaskStatus.RUNNING,
    )
    if counted is None:
        _take_back(ref, [written])
    if counted.parts is not None and counted.parts_done >= counted.parts:
        # The last part's partials are written: the partial phase ends now (reducers may
        # still wait for a worker, locally, so their start would say later).
        repo.update(
            ref.owner,
            ref.id,
            TaskChanges(partials_done_at=utcnow()),
            only_if_status=TaskStatus.RUNNING,
        )
    return Partial(part=first, parts=parts.parts, rows=parts.rows, groups=parts.groups)


CHILD_ITEMS_BYTES = 200_000
"""The most bytes of items one Reduces child takes: AWS caps a child's input at 256 KiB,
and the batch's shared input (the spec) needs the rest."""


def gather(payload: GatherInput) -> Gathered:
    """Read every part's buckets index once (one ranged GET a part that has groups) and
    write the reducers' item list: each bucket's byte range in every part, so that a
    reducer makes one ranged GET per part (P x R in all, not 2 x P x R)."""
    plan = payload.plan
    ref, buckets = plan.task, plan.bucket_count
    results = [
        Partial.model_validate(result)
        for output in map_results.outputs(payload.partials)
        for result in output
    ]
    done = {part for result in results for part in result.aggregated()}
    if sorted(done) != list(range(plan.part_count)):
        missing = sorted(set(range(plan.part_count)) - done)
        raise ValueError(f"the partials of parts {missing[:5]} were not written")
    # A group's groups are in the file of its first part, the others' slices empty; a
    # group without groups wrote only an index (every bucket empty): nothing to read.
    having = sorted(result.part for result in results if result.groups)
    offsets = read_indexes([partial_key(ref.owner, ref.id, part) for part in having], buckets)

    def item(b: int) -> ReduceItem:
        """Bucket b's start and size in every part (0, 0: empty), built one bucket at a
        time: at 1 TB every bucket's would be 2 x 35M numbers (~2.5 GB as Python lists)."""
        starts = np.zeros(plan.part_count, dtype=np.int64)
        sizes = np.zeros(plan.part_count, dtype=np.int64)
        starts[having] = offsets[:, b]
        sizes[having] = offsets[:, b + 1].astype(np.int64) - offsets[:, b].astype(np.int64)
        return ReduceItem(bucket=b, starts=starts.tolist(), sizes=sizes.tolist())

    # An item's JSON is at most its two lists of numbers of the largest offset's digits.
    digits = len(str(int(offsets.max()))) if offsets.size else 1
    if 64 + 2 * plan.part_count * (digits + 1) > CHILD_ITEMS_BYTES:
        # Past ~9,000 parts a bucket's ranges outgrow a child's input: each goes to an
        # object of its own, which its reducer reads first (R more PUTs and GETs).
        items = _ranges_apart(ref, item, buckets)
    else:
        items = [item(b) for b in range(buckets)]
    where = ItemsRef(bucket=plan.parts.bucket, key=f"{work_prefix(ref.owner, ref.id)}reduces.json")
    put_items(where, items)
    # One bucket a child (SHUFFLE_BATCH), whose item fits a child's input by now.
    return Gathered(items=where, count=buckets, batch=SHUFFLE_BATCH)


def _ranges_apart(
    ref: TaskRef, item: Callable[[int], ReduceItem], buckets: int
) -> list[ReduceItem]:
    """Each bucket's item (``item(b)``) written to the task's work folder, named in the
    item instead; one bucket's ranges in memory at a time a thread."""
    data_bucket = settings().data_bucket

    def put(bucket: int) -> ReduceItem:
        ranges = item(bucket)
        key = f"{work_prefix(ref.owner, ref.id)}ranges/b{bucket:04d}.json"
        objects.put_json(data_bucket, key, {"starts": ranges.starts, "sizes": ranges.sizes})
        return ReduceItem(bucket=bucket, ranges=key)

    return objects.concurrently(put, range(buckets), READ_THREADS)


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
    ref, item = payload.task, payload.item
    _ensure_running(repo, ref)
    bucket = settings().data_bucket
    if item.ranges is not None:  # too many parts for the item: its ranges are apart
        item = ReduceItem.model_validate(
            {**objects.get_json(bucket, item.ranges), "bucket": item.bucket}
        )
    # Gather read every part's index: one ranged GET a part, of just this bucket's slice
    # (none where it is empty).
    spans = [
        (partial_key(ref.owner, ref.id, part), start, start + size)
        for part, (start, size) in enumerate(zip(item.starts, item.sizes, strict=True))
    ]
    partials = read_slices(spans)
    files: list[ReducedFile] = []
    if partials:
        merged = merge_partials(partials, payload.spec)
        written = write_outputs(merged, payload.output.format, payload.output.max_file_bytes)
        for index, (data, rows) in enumerate(written):
            key = output_key(ref.owner, ref.id, item.bucket, index, payload.output.format)
            content = (
                "text/csv" if payload.output.format == "csv" else "application/vnd.apache.parquet"
            )
            objects.put_bytes(bucket, key, data, content)
            files.append(ReducedFile(key=key, bytes=len(data), rows=rows))
    counted = repo.update(
        ref.owner, ref.id, TaskChanges(), add_buckets_done=1, only_if_status=TaskStatus.RUNNING
    )
    if counted is None:
        _take_back(ref, [f.key for f in files])
    return Reduced(bucket=item.bucket, files=files)


def _take_back(ref: TaskRef, keys: list[str]) -> NoReturn:
    """Remove what a step wrote for a task that ended (failed, cancelled or deleted)
    while it ran: the end's clean-up may have listed the task's folder before these
    writes. The end is recorded before its clean-up, and a step checks it after its
    writes, so one of the two always removes them."""
    for key in keys:
        objects.delete_object(settings().data_bucket, key)
    raise TaskGone(f"task {ref.id} was cancelled, failed or deleted while this step ran")


def reduce_batch(repo: TaskRepository, batch: ReduceBatch) -> list[Reduced]:
    """Reduce the buckets of one ItemBatcher batch, one after the other."""
    return [reduce(repo, payload) for payload in batch.reduces()]


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


def fail(repo: TaskRepository, payload: FailInput) -> Outcome:
    """Record the worker's message; a cancelled or deleted task stays as it is."""
    ref = payload.task
    caught = payload.error
    if caught.Error == map_results.THRESHOLD_EXCEEDED:
        # A Map failed because a child did: that child's own error, from its results.
        caught = _failed_child(ref) or caught
    failure = step_failure(caught.Error, caught.Cause)
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


def _failed_child(ref: TaskRef) -> StepError | None:
    """The error of the first part's (or bucket's) failed child in the task's
    Distributed Maps, from what their ResultWriters wrote."""
    prefix = results_prefix(ref.owner, ref.id)
    bucket = settings().data_bucket
    first = map_results.first_failure(bucket, prefix, "index") or map_results.first_failure(
        bucket, prefix, "bucket"
    )
    return None if first is None else StepError(Error=first.Error, Cause=first.Cause)
