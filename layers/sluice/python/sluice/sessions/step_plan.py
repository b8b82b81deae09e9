"""Plan and Settle, the steps of statemachines/run_operation.asl.json before its Maps:
the parts an operation reads and its buckets listed for the Distributed Maps' ItemReaders
(with the operation's survey, where it needs one), and, after a survey, what each part
step reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sluice.config import settings
from sluice.datasets.manifest import Manifest
from sluice.datasets.models import utcnow
from sluice.datasets.rows import load_manifest
from sluice.operations.base import PartRef
from sluice.operations.catalogue import operation as catalogued
from sluice.sessions.operation_models import OperationChanges, OperationStatus, Timings
from sluice.sessions.repository import OperationRepository
from sluice.sessions.runs import operation_run, work_prefix
from sluice.sessions.step_models import BucketItem, OperationRef, Plan
from sluice.sessions.step_records import (
    OperationGone,
    count,
    remove_written,
    results_prefix,
    running,
)
from sluice.sessions.together import at_once
from sluice.store.map_results import (
    SHUFFLE_BATCH,
    ItemsRef,
    batch_size,
    dealt,
    map_concurrency,
    put_items,
)


def plan(repo: OperationRepository, ref: OperationRef) -> Plan:
    """Mark the operation IN_PROGRESS; list the parts it reads and its buckets."""
    record = repo.get(ref.owner, ref.id)
    run = operation_run(record)
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
        remove_written(ref)
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


def settle(repo: OperationRepository, ref: OperationRef) -> None:
    """From the parts' surveys, what each part step reads (boundaries, bins)."""
    record = running(repo, ref)
    catalogued(record.name).settle(operation_run(record), record.buckets or 0)
    count(repo, ref, parts=0, buckets=0)
