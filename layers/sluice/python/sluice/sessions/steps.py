"""The steps of statemachines/run_operation.asl.json.

plan (the parts of the datasets read and the buckets of a shuffle, as JSON lists in S3)
-> [if the operation surveys: Map(survey: the parts) -> settle] -> Map(part: the typed
Parquet parts) -> [if it has a shuffle: Map(bucket: the buckets)] -> finish (the
operation's output: a new dataset from the parts written, or JSON data) | fail. The
Maps are Distributed Maps (payloads: sluice.sessions.step_models): a child runs a batch
of parts or buckets, and their answers are in S3, where finish reads them. Each step
works only while its operation is IN_PROGRESS: a deleted one makes them raise
``OperationGone``, and the failure path then only cleans up.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed, wait
from typing import Any, TypeVar

from sluice.config import settings
from sluice.datasets import query_tables
from sluice.datasets.derived import WrittenFile, record_derived
from sluice.datasets.manifest import Manifest
from sluice.datasets.models import Dataset, SourceObject, normalise_path, utcnow
from sluice.datasets.repository import DatasetRepository
from sluice.datasets.rows import load_manifest
from sluice.errors import NotFound
from sluice.operations.base import PartRef, StepResult
from sluice.operations.catalogue import operation as catalogued
from sluice.sessions import cache
from sluice.sessions.operation_models import (
    OperationChanges,
    OperationOutput,
    OperationStatus,
    PartWritten,
    SessionOperation,
    Timings,
)
from sluice.sessions.repository import OperationRepository, SessionRepository
from sluice.sessions.runs import operation_run, work_prefix
from sluice.sessions.step_models import (
    BucketBatch,
    BucketItem,
    FailInput,
    FinishInput,
    OperationRef,
    Outcome,
    PartBatch,
    Plan,
    StepError,
)
from sluice.sessions.together import at_once
from sluice.step_errors import step_failure
from sluice.store import map_results, objects
from sluice.store.map_results import (
    SHUFFLE_BATCH,
    THRESHOLD_EXCEEDED,
    ItemsRef,
    ResultWriterDetails,
    batch_size,
    dealt,
    map_concurrency,
    put_items,
)


class TransientError(Exception):
    """A failure worth retrying (the state machine retries it with backoff)."""


class OperationGone(Exception):
    """The operation was deleted while this step was on its way."""


def _running(repo: OperationRepository, ref: OperationRef) -> SessionOperation:
    try:
        record = repo.get(ref.owner, ref.id)
    except NotFound as gone:
        raise OperationGone(f"operation {ref.id} was deleted") from gone
    if record.status is not OperationStatus.IN_PROGRESS:
        raise OperationGone(f"operation {ref.id} is {record.status.value}")
    return record


_run = operation_run


def plan(repo: OperationRepository, ref: OperationRef) -> Plan:
    """Mark the operation IN_PROGRESS; list the parts it reads and its buckets."""
    record = repo.get(ref.owner, ref.id)
    run = _run(record)
    # Every input's manifest at once (a join's two, median's several).
    read = [(key, d) for key, items in record.datasets.items() for d in items]
    loaded = at_once(*[lambda d=d: load_manifest(ref.owner, d.id, d.run) for _, d in read])
    manifests: dict[str, list[Manifest]] = {key: [] for key in record.datasets}
    for (key, _), manifest in zip(read, loaded, strict=True):
        manifests[key].append(manifest)
    parts: list[PartRef] = []
    for key, items in manifests.items():
        for position, manifest in enumerate(items):
            for part in manifest.parts:
                parts.append(
                    PartRef(
                        input=key,
                        dataset=position,
                        index=len(parts),
                        key=part.key,
                        rows=part.rows,
                        bytes=part.bytes,
                    )
                )
    chosen = catalogued(record.name)
    buckets = chosen.bucket_count(run, manifests)
    # The parts and buckets go to S3 for the Distributed Maps' ItemReaders, not into the
    # state (256 KB): a dataset of thousands of parts is no larger a payload than one.
    # Written before the record says IN_PROGRESS, so that a delete from then on finds them.
    cfg = settings()
    folder = work_prefix(ref.owner, ref.id)
    part_items = ItemsRef(bucket=cfg.data_bucket, key=f"{folder}items/parts.json")
    bucket_items = ItemsRef(bucket=cfg.data_bucket, key=f"{folder}items/buckets.json")
    # Each batch takes every n-th part: one dataset's parts, or a join's large side's,
    # are not all one invocation's while another runs the small ones.
    concurrency = map_concurrency(cfg)
    batch, bucket_batch = batch_size(len(parts), concurrency), SHUFFLE_BATCH
    writes: list[Callable[[], Any]] = [lambda: put_items(part_items, dealt(parts, batch))]
    if buckets:  # else the Buckets Map does not run (Choice Shuffled): no list to read
        listed = dealt([BucketItem(bucket=b) for b in range(buckets)], bucket_batch)
        writes.append(lambda: put_items(bucket_items, listed))
    # The operation's survey (histogram: its parts' footers, its bins) while they are written.
    survey, *_ = at_once(lambda: chosen.surveys(run, manifests), *writes)
    now = utcnow()
    started = repo.update(
        ref.owner,
        ref.id,
        OperationChanges(
            status=OperationStatus.IN_PROGRESS,
            started_at=now,
            parts=len(parts),
            buckets=buckets,
            timings=Timings(queued_s=round((now - record.created_at).total_seconds(), 3)),
        ),
        only_if_status=OperationStatus.PENDING,
    )
    if started is None:
        _remove_written(ref)
        raise OperationGone(f"operation {ref.id} is no longer pending")
    return Plan(
        parts=part_items,
        part_count=len(parts),
        buckets=bucket_items,
        bucket_count=buckets,
        survey=survey,
        batch=batch,
        bucket_batch=bucket_batch,
        concurrency=concurrency,
        results=results_prefix(ref),
    )


def results_prefix(ref: OperationRef) -> str:
    """Where the run's Distributed Maps write their results (one folder per Map Run):
    beside its work folder, so they stay, with the item lists, once it is removed."""
    return f"{work_prefix(ref.owner, ref.id)}maps/"


def settle(repo: OperationRepository, ref: OperationRef) -> None:
    """From the parts' surveys, what each part step reads (boundaries, bins)."""
    record = _running(repo, ref)
    catalogued(record.name).settle(_run(record), record.buckets or 0)
    _count(repo, ref, parts=0, buckets=0)


def _remove_written(ref: OperationRef) -> None:
    """What the run wrote: its work folder and its output dataset's parts."""
    bucket_name = settings().data_bucket
    objects.delete_prefix(bucket_name, work_prefix(ref.owner, ref.id))
    if ref.output_dataset:
        objects.delete_prefix(bucket_name, f"datasets/{ref.owner}/{ref.output_dataset}/")


def _count(
    repo: OperationRepository,
    ref: OperationRef,
    *,
    parts: int,
    buckets: int,
    result: StepResult | None = None,
) -> None:
    """Count a step done, with the output parts it wrote (shown while the run goes on);
    if the operation was deleted while the step wrote, remove what the run wrote (the
    delete's own clean-up may have run before this step's writes)."""
    written = {
        w.key.rsplit("/", 1)[-1]: PartWritten(index=w.index, rows=w.rows, bytes=w.bytes)
        for w in (result.written if result else [])
    }
    counted = repo.update(
        ref.owner,
        ref.id,
        OperationChanges(),
        add_parts_done=parts,
        add_buckets_done=buckets,
        only_if_status=OperationStatus.IN_PROGRESS,
        add_written=written,
    )
    if counted is None:
        _remove_written(ref)
        raise OperationGone(f"operation {ref.id} was deleted or ended while this step ran")


def part_batch(repo: OperationRepository, batch: PartBatch) -> list[StepResult]:
    """Run (or survey) the parts of one ItemBatcher batch. The record is read once for the
    batch (the operation still IN_PROGRESS); a table result's parts (``parts_at_once`` at a
    time) are counted one by one as they are written (shown while the run goes on), a
    survey's or a figure's once for the batch (their partials are in S3, where ``partial``
    reads them). Each count is conditional on the operation still running: after a delete
    it removes what the run wrote and raises ``OperationGone``."""
    payloads = batch.inputs()
    ref, shared = batch.BatchInput.operation, batch.BatchInput
    record = _running(repo, ref)
    chosen, run = catalogued(record.name), _run(record)
    if shared.phase == "survey":
        for payload in payloads:
            chosen.survey_part(run, payload.part, shared.bucket_count)
        _count(repo, ref, parts=0, buckets=0)
        return [StepResult(index=payload.part.index) for payload in payloads]
    parts = [payload.part for payload in payloads]
    if chosen.output == "data":
        results = chosen.run_parts(run, parts, shared.bucket_count)
        _count(repo, ref, parts=len(parts), buckets=0)
        return results
    return _each_counted(
        repo,
        ref,
        lambda part: chosen.run_part(run, part, shared.bucket_count),
        parts,
        threads=chosen.parts_at_once,
        buckets=False,
    )


def bucket_batch(repo: OperationRepository, batch: BucketBatch) -> list[StepResult]:
    """Merge the buckets of one ItemBatcher batch, one after the other, each counted (with
    the output parts it wrote) as it is done; the record is read once for the batch."""
    ref, part_count = batch.BatchInput.operation, batch.BatchInput.part_count
    record = _running(repo, ref)
    chosen, run = catalogued(record.name), _run(record)
    return _each_counted(
        repo,
        ref,
        lambda item: chosen.run_bucket(run, item.bucket, part_count),
        batch.Items,
        threads=1,
        buckets=True,
    )


Item = TypeVar("Item")


def _each_counted(
    repo: OperationRepository,
    ref: OperationRef,
    work: Callable[[Item], StepResult],
    items: Sequence[Item],
    *,
    threads: int,
    buckets: bool,
) -> list[StepResult]:
    """``work`` on each item, ``threads`` at a time, each counted as it ends. On an error
    none is left running (a retry runs the batch again; after a delete a write still in
    flight would outlive the clean-up), and after a delete what they wrote is removed."""
    results: list[StepResult] = []
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(items)))) as pool:
        futures = [pool.submit(work, item) for item in items]
        try:
            for future in as_completed(futures):
                result = future.result()
                _count(repo, ref, parts=int(not buckets), buckets=int(buckets), result=result)
                results.append(result)
        except BaseException as error:
            for future in futures:
                future.cancel()
            wait(futures)
            if isinstance(error, OperationGone):
                _remove_written(ref)
            raise
    return sorted(results, key=lambda r: r.index)


def _answers(details: ResultWriterDetails) -> list[StepResult]:
    """Every step's answer from what a Map's ResultWriter wrote (each child's output is
    its batch's list), in no particular order."""
    return [
        StepResult.model_validate(answer)
        for output in map_results.outputs(details)
        for answer in output
    ]


def _output_dataset(
    datasets: DatasetRepository, sessions: SessionRepository, record: SessionOperation
) -> Dataset:
    """The output dataset's record before it is ready: named after the operation and its
    input, in the session's folder."""
    first = next((items[0] for items in record.datasets.values() if items), None)
    session, source = at_once(
        lambda: sessions.find(record.owner, record.session_id),
        lambda: datasets.find(record.owner, first.id) if first else None,
    )
    name = f"{record.name} of {source.name}" if source else record.name
    now = utcnow()
    assert record.output_dataset is not None
    return Dataset(
        id=record.output_dataset,
        owner=record.owner,
        name=name[:200],
        path=normalise_path(f"sessions/{record.session_id}"),
        description=f"Operation {record.id} of session "
        f"{session.name if session else record.session_id!r}",
        created_at=now,
        updated_at=now,
        source=SourceObject(bucket=settings().data_bucket, key=""),
        content_hash=record.cache_key,
    )


def finish(
    repo: OperationRepository,
    datasets: DatasetRepository,
    sessions: SessionRepository,
    payload: FinishInput,
) -> Outcome:
    """Record the output (a ready dataset, or JSON data in S3), mark the operation
    COMPLETED and remember it in the cache."""
    ref = payload.operation
    bucket_details = payload.buckets
    record, parts, buckets = at_once(
        lambda: _running(repo, ref),
        lambda: _answers(payload.parts),
        lambda: _answers(bucket_details) if bucket_details else [],
    )
    run = _run(record)
    finished = catalogued(record.name).finish(run, parts, buckets)
    output = OperationOutput()
    data_key = None
    if finished.parts is not None:
        files = [
            WrittenFile(key=p.key, rows=p.rows, bytes=p.bytes, columns=p.columns)
            for p in finished.parts
        ]
        template = _output_dataset(datasets, sessions, record)
        record_derived(datasets, template, run.output_run, files)
        output.datasets = [template.id]
    else:
        data_key = f"{work_prefix(ref.owner, ref.id)}output.json"
        objects.put_json(settings().data_bucket, data_key, finished.data)
    now = utcnow()
    started = record.started_at or record.created_at
    timings = record.timings.model_copy(
        update={"total_s": round((now - record.created_at).total_seconds(), 3)}
    )
    done = repo.update(
        ref.owner,
        ref.id,
        OperationChanges(
            status=OperationStatus.COMPLETED,
            progress=1.0,
            finished_at=now,
            timings=timings,
            output=output,
            data_key=data_key,
            message=f"done in {(now - started).total_seconds():.1f} s",
        ),
        only_if_status=OperationStatus.IN_PROGRESS,
    )
    if done is not None:  # the work folder and the cache's entry, each a round trip or two
        at_once(
            lambda: objects.delete_prefix(settings().data_bucket, run.work),
            lambda: cache.remember(settings().table, ref.owner, record.cache_key, ref.id),
        )
        return Outcome(status="completed")
    # Deleted while it finished: its dataset goes too, and its table.
    objects.delete_prefix(settings().data_bucket, run.work)
    for dataset_id in output.datasets:
        written = datasets.find(ref.owner, dataset_id)
        with contextlib.suppress(NotFound):
            datasets.delete(ref.owner, dataset_id)
        if written is not None:
            query_tables.remove(written)
    _remove_written(ref)
    raise OperationGone(f"operation {ref.id} ended before it could finish")


def fail(repo: OperationRepository, payload: FailInput) -> Outcome:
    """Record the worker's message (FAILED: never cached) and remove what the run wrote;
    a deleted operation is only cleaned up."""
    ref = payload.operation
    caught = payload.error
    if caught.Error == THRESHOLD_EXCEEDED:  # a Map's child failed: its own error is in S3
        child = map_results.first_failure(settings().data_bucket, results_prefix(ref), "index")
        caught = caught if child is None else StepError(Error=child.Error, Cause=child.Cause)
    failure = step_failure(caught.Error, caught.Cause)
    record = repo.find(ref.owner, ref.id)
    _remove_written(ref)
    if failure.type == OperationGone.__name__ or record is None:
        return Outcome(status="gone")
    failed = OperationChanges(
        status=OperationStatus.FAILED, finished_at=utcnow(), message=failure.message
    )
    for open_status in (OperationStatus.IN_PROGRESS, OperationStatus.PENDING):
        if repo.update(ref.owner, ref.id, failed, only_if_status=open_status):
            break
    return Outcome(status="failed", message=failure.message)
