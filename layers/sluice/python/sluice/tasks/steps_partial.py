"""The Partials Map's step (``statemachines/run_task.asl.json``): a batch of parts read,
aggregated a group of small parts or one part at a time, and written as buckets files
(``sluice.tasks.partials``, ``sluice.tasks.parts_file``)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from sluice.config import settings
from sluice.datasets.models import utcnow
from sluice.store import objects
from sluice.store.parquet_parts import part_file
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


def _read_parquet(part: PartRef, columns: list[str], keys: list[str]) -> pa.Table:
    """A part's ``columns``: a small part in one GET, a larger one by ranged reads of
    just their column chunks; the ``keys`` that :func:`dictionary_keys` picks as Arrow
    dictionaries."""
    if part.row_groups is None and 0 < part.bytes <= WHOLE_PART_BYTES:
        data = objects.get_bytes(settings().data_bucket, part.key)
        footer = pq.read_metadata(pa.BufferReader(data))
        return pq.read_table(
            pa.BufferReader(data),
            columns=columns,
            read_dictionary=dictionary_keys(footer, keys, None),
        )
    # A piece's bytes are its row groups', not the file's size (asked by a HEAD then).
    size = (part.bytes or None) if part.row_groups is None else None
    fragment = part_file(part.key, size)
    if keys:
        fragment.ensure_complete_metadata()  # its footer: one ranged GET, kept for the read
        dictionaries = dictionary_keys(fragment.metadata, keys, part.row_groups)
        if dictionaries:  # a reader of dictionaries reads the footer again: one more GET
            fragment = part_file(part.key, size, dictionaries)
    if part.row_groups is not None:  # a piece of a large part: its row groups only
        first, stop = part.row_groups
        fragment = fragment.subset(row_group_ids=list(range(first, stop)))
    return fragment.to_table(columns=columns)


def dictionary_keys(
    footer: pq.FileMetaData, keys: list[str], row_groups: tuple[int, int] | None
) -> list[str]:
    """The text ``keys`` a part keeps in dictionary pages in each of its ``row_groups``
    (first, stop; all when None), which its partial reads as dictionaries.

    The ingest writes a column of few distinct values with dictionary pages
    (``ingest.parts.dictionary_columns``): on the 10,000-song file a part's titles read
    as a dictionary in 23 ms, not 113 as texts, and the partial groups and hashes their
    indices as it would have after encoding the texts itself (``shuffled_keys``, 35 ms,
    now 5). A column written plain stays texts: Arrow would build its dictionary by
    hashing every value (a part of nearly distinct titles read in 107 ms, not 45, and
    decoded again for the shuffle)."""
    schema = footer.schema.to_arrow_schema()
    leaves = [footer.schema.column(i).path for i in range(footer.num_columns)]
    first, stop = row_groups if row_groups is not None else (0, footer.num_row_groups)
    chosen = []
    for key in keys:
        field = schema.field(key) if schema.get_field_index(key) >= 0 else None
        if field is None or field.type not in (pa.string(), pa.large_string()):
            continue  # a category is a dictionary already; numbers and times group as they are
        leaf = leaves.index(key)  # a text is one leaf, named as its column
        if first < stop and all(
            footer.row_group(group).column(leaf).has_dictionary_page for group in range(first, stop)
        ):
            chosen.append(key)
    return chosen


def partial(repo: TaskRepository, payload: PartialInput) -> pa.Table:
    """One part's rows, as its group's partial aggregation needs them (``partial_batch``)."""
    spec = payload.spec
    return _read_parquet(payload.part, needed_columns(spec), list(spec.group_by))


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
