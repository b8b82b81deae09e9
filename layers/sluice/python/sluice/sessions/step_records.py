"""What every step of statemachines/run_operation.asl.json shares: its errors, the
operation's record read while it runs, a step counted done (conditional on the operation
still running), and the removal of what a run wrote once the operation is gone."""

from __future__ import annotations

from collections.abc import Sequence

from sluice.config import settings
from sluice.errors import NotFound
from sluice.operations.base import WrittenPart
from sluice.sessions.operation_models import (
    OperationChanges,
    OperationStatus,
    PartWritten,
    SessionOperation,
)
from sluice.sessions.repository import OperationRepository
from sluice.sessions.runs import work_prefix
from sluice.sessions.step_models import OperationRef
from sluice.store import objects


class TransientError(Exception):
    """A failure worth retrying (the state machine retries it with backoff)."""


class OperationGone(Exception):
    """The operation was deleted while this step was on its way."""


def running(repo: OperationRepository, ref: OperationRef) -> SessionOperation:
    """The operation's record; ``OperationGone`` unless it is IN_PROGRESS."""
    try:
        record = repo.get(ref.owner, ref.id)
    except NotFound as gone:
        raise OperationGone(f"operation {ref.id} was deleted") from gone
    if record.status is not OperationStatus.IN_PROGRESS:
        raise OperationGone(f"operation {ref.id} is {record.status.value}")
    return record


def results_prefix(ref: OperationRef) -> str:
    """Where the run's Distributed Maps write their results (one folder per Map Run):
    beside its work folder, so they stay, with the item lists, once it is removed."""
    return f"{work_prefix(ref.owner, ref.id)}maps/"


def remove_written(ref: OperationRef) -> None:
    """What the run wrote: its work folder and its output dataset's parts."""
    bucket_name = settings().data_bucket
    objects.delete_prefix(bucket_name, work_prefix(ref.owner, ref.id))
    if ref.output_dataset:
        objects.delete_prefix(bucket_name, f"datasets/{ref.owner}/{ref.output_dataset}/")


def count(
    repo: OperationRepository,
    ref: OperationRef,
    *,
    parts: int,
    buckets: int,
    written: Sequence[WrittenPart] = (),
) -> None:
    """Count steps done, with the output parts they wrote (shown while the run goes on);
    if the operation was deleted while they wrote, remove what the run wrote (the
    delete's own clean-up may have run before these steps' writes)."""
    entries = {
        w.key.rsplit("/", 1)[-1]: PartWritten(index=w.index, rows=w.rows, bytes=w.bytes)
        for w in written
    }
    counted = repo.update(
        ref.owner,
        ref.id,
        OperationChanges(),
        add_parts_done=parts,
        add_buckets_done=buckets,
        only_if_status=OperationStatus.IN_PROGRESS,
        add_written=entries,
    )
    if counted is None:
        remove_written(ref)
        raise OperationGone(f"operation {ref.id} was deleted or ended while this step ran")
