"""The Map children's steps of statemachines/run_operation.asl.json: a batch of parts
(run, or surveyed) and a batch of a shuffle's buckets, counted in the record as they end
(a table result's parts with the output parts they wrote: the first at once, then those
ended since at most every ``COUNT_EVERY_S``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed, wait
from typing import TypeVar

from sluice.operations.base import StepResult
from sluice.operations.catalogue import operation as catalogued
from sluice.sessions import step_records
from sluice.sessions.repository import OperationRepository
from sluice.sessions.runs import operation_run
from sluice.sessions.step_models import BucketBatch, OperationRef, PartBatch
from sluice.sessions.step_records import OperationGone

COUNT_EVERY_S = 0.5
"""How often a batch counts the parts (or buckets) that ended since its last count, after
its first, which it counts at once (a delete is then noticed before a second part is
written). Each count is an UpdateItem of the record: one a part was 19 of filter_select's
~200 requests and the embedded DynamoDB's largest cost (6 ms of CPU each), and at AWS's
scale a write unit a part; progress a second late is still progress."""

_clock = time.monotonic


def part_batch(repo: OperationRepository, batch: PartBatch) -> list[StepResult]:
    """Run (or survey) the parts of one ItemBatcher batch. The record is read once for the
    batch (the operation still IN_PROGRESS); a table result's parts (``parts_at_once`` at a
    time) are counted as they are written (``_each_counted``: shown while the run goes on), a
    survey's or a figure's once for the batch (their partials are in S3, where ``partial``
    reads them). Each count is conditional on the operation still running: after a delete
    it removes what the run wrote and raises ``OperationGone``."""
    payloads = batch.inputs()
    ref, shared = batch.BatchInput.operation, batch.BatchInput
    record = step_records.running(repo, ref)
    chosen, run = catalogued(record.name), operation_run(record)
    if shared.phase == "survey":
        for payload in payloads:
            chosen.survey_part(run, payload.part, shared.bucket_count)
        step_records.count(repo, ref, parts=0, buckets=0)
        return [StepResult(index=payload.part.index) for payload in payloads]
    parts = [payload.part for payload in payloads]
    if chosen.output == "data":
        results = chosen.run_parts(run, parts, shared.bucket_count)
        step_records.count(repo, ref, parts=len(parts), buckets=0)
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
    """Merge the buckets of one ItemBatcher batch, one after the other, counted (with the
    output parts they wrote) as they are done (``_each_counted``); the record is read once
    for the batch."""
    ref, part_count = batch.BatchInput.operation, batch.BatchInput.part_count
    record = step_records.running(repo, ref)
    chosen, run = catalogued(record.name), operation_run(record)
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
    """``work`` on each item, ``threads`` at a time, counted as they end: the first at
    once, then those ended since the last count once ``COUNT_EVERY_S`` has passed, and the
    rest when the last ends. On an error none is left running (a retry runs the batch
    again; after a delete a write still in flight would outlive the clean-up), and after a
    delete what they wrote is removed."""
    results: list[StepResult] = []
    uncounted: list[StepResult] = []
    counted_at: float | None = None
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(items)))) as pool:
        futures = [pool.submit(work, item) for item in items]
        try:
            for future in as_completed(futures):
                uncounted.append(future.result())
                now = _clock()
                last = len(results) + len(uncounted) == len(items)
                if counted_at is None or now - counted_at >= COUNT_EVERY_S or last:
                    done = len(uncounted)
                    step_records.count(
                        repo,
                        ref,
                        parts=0 if buckets else done,
                        buckets=done if buckets else 0,
                        written=[w for result in uncounted for w in result.written],
                    )
                    results += uncounted
                    uncounted, counted_at = [], now
        except BaseException as error:
            for future in futures:
                future.cancel()
            wait(futures)
            if isinstance(error, OperationGone):
                step_records.remove_written(ref)
            raise
    return sorted(results, key=lambda r: r.index)
