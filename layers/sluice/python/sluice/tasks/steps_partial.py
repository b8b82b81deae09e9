"""The Partials Map's step (``statemachines/run_task.asl.json``): a batch of parts read,
aggregated a group of small parts or one part at a time, and written as buckets files
(``sluice.tasks.partials``, ``sluice.tasks.parts_file``)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from sluice.config import settings
from sluice.datasets.models import utcnow
from sluice.store import objects
from sluice.store.parquet_parts import read_part
from sluice.tasks.aggregate import needed_columns, partial_aggregate
from sluice.tasks.models import TaskChanges, TaskStatus
from sluice.tasks.partials import write_buckets
from sluice.tasks.parts_file import PartsFile, schema_of
from sluice.tasks.repository import TaskRepository
from sluice.tasks.step_models import Partial, PartialBatch, PartialInput, PartialShared, PartRef
from sluice.tasks.steps import ensure_running, take_back
from sluice.tasks.workspace import partial_key

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
    ensure_running(repo, shared.task)
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
        take_back(ref, [written])
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
