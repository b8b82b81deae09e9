"""The shuffle's read side (``statemachines/run_task.asl.json``): gather (every buckets
file's index read once, the reducers' item list written) and the Reduces Map's step (a
bucket's slices read, merged and written as output files)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sluice.config import settings
from sluice.store import map_results, objects
from sluice.store.map_results import SHUFFLE_BATCH, ItemsRef, put_items
from sluice.tasks.aggregate import merge_partials, write_outputs
from sluice.tasks.models import TaskChanges, TaskStatus
from sluice.tasks.partials import READ_THREADS, read_indexes, read_slices
from sluice.tasks.repository import TaskRepository
from sluice.tasks.step_models import (
    Gathered,
    GatherInput,
    Partial,
    ReduceBatch,
    Reduced,
    ReducedFile,
    ReduceInput,
    ReduceItem,
    TaskRef,
)
from sluice.tasks.steps import ensure_running, take_back
from sluice.tasks.workspace import output_key, partial_key, work_prefix

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


def reduce(repo: TaskRepository, payload: ReduceInput) -> Reduced:
    """Merge one bucket's partials from every part and write its output files."""
    ref, item = payload.task, payload.item
    ensure_running(repo, ref)
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
        take_back(ref, [f.key for f in files])
    return Reduced(bucket=item.bucket, files=files)


def reduce_batch(repo: TaskRepository, batch: ReduceBatch) -> list[Reduced]:
    """Reduce the buckets of one ItemBatcher batch, one after the other."""
    return [reduce(repo, payload) for payload in batch.reduces()]
