"""Finish and Fail, the last steps of statemachines/run_operation.asl.json: the
operation's output recorded (a ready dataset, or JSON data in S3), COMPLETED and cached;
or its worker's message recorded, FAILED, and what the run wrote removed."""

from __future__ import annotations

import contextlib

from sluice.config import settings
from sluice.datasets import query_tables
from sluice.datasets.derived import WrittenFile, record_derived
from sluice.datasets.lost_inputs import explained
from sluice.datasets.models import Dataset, SourceObject, normalise_path, utcnow
from sluice.datasets.repository import DatasetRepository
from sluice.errors import NotFound
from sluice.operations.base import StepResult
from sluice.operations.catalogue import operation as catalogued
from sluice.sessions import cache
from sluice.sessions.operation_models import (
    OperationChanges,
    OperationOutput,
    OperationStatus,
    SessionOperation,
)
from sluice.sessions.repository import OperationRepository, SessionRepository
from sluice.sessions.runs import operation_run, work_prefix
from sluice.sessions.step_models import FailInput, FinishInput, Outcome, StepError
from sluice.sessions.step_records import (
    OperationGone,
    remove_written,
    results_prefix,
    running,
)
from sluice.sessions.together import at_once
from sluice.step_errors import step_failure
from sluice.store import map_results, objects
from sluice.store.map_results import THRESHOLD_EXCEEDED, ResultWriterDetails


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
        lambda: running(repo, ref),
        lambda: _answers(payload.parts),
        lambda: _answers(bucket_details) if bucket_details else [],
    )
    run = operation_run(record)
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
    remove_written(ref)
    raise OperationGone(f"operation {ref.id} ended before it could finish")


def fail(repo: OperationRepository, datasets: DatasetRepository, payload: FailInput) -> Outcome:
    """Record the worker's message (FAILED: never cached; a read of a part that is not
    there says why: an input deleted or re-converted meanwhile) and remove what the run
    wrote; a deleted operation is only cleaned up."""
    ref = payload.operation
    caught = payload.error
    if caught.Error == THRESHOLD_EXCEEDED:  # a Map's child failed: its own error is in S3
        child = map_results.first_failure(settings().data_bucket, results_prefix(ref), "index")
        caught = caught if child is None else StepError(Error=child.Error, Cause=child.Cause)
    failure = step_failure(caught.Error, caught.Cause)
    record = repo.find(ref.owner, ref.id)
    remove_written(ref)
    if failure.type == OperationGone.__name__ or record is None:
        return Outcome(status="gone")
    read = [(item.id, item.run) for items in record.datasets.values() for item in items]
    message = explained(failure, datasets, ref.owner, read, "operation")
    failed = OperationChanges(status=OperationStatus.FAILED, finished_at=utcnow(), message=message)
    for open_status in (OperationStatus.IN_PROGRESS, OperationStatus.PENDING):
        if repo.update(ref.owner, ref.id, failed, only_if_status=open_status):
            break
    return Outcome(status="failed", message=message)
