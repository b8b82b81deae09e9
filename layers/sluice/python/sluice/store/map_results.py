"""What a Distributed Map reads from and writes to S3: the item list a plan step writes
for its ItemReader, the batch size and MaxConcurrency it puts in the state, and the
results its ResultWriter wrote, read back by the next step.

A Distributed Map with a ``ResultWriter`` leaves its children's results in S3, not in
the state: ``<prefix>/<map run id>/manifest.json`` names the result files by status,
each a JSON array with one entry per child execution, whose ``Input`` and ``Output``
are JSON texts and, for a failed child, ``Error`` and ``Cause``
(https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html).
The state carries only ``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from sluice.store import objects

if TYPE_CHECKING:
    from sluice.config import Settings

SUCCEEDED = "SUCCEEDED"
MANIFEST = "manifest.json"
THRESHOLD_EXCEEDED = "States.ExceedToleratedFailureThreshold"
"""A Distributed Map's error when a child failed: the child's own is in its results."""

MAX_BATCH = 8
"""The most items one child takes (ItemBatcher): 8 chunks of 64 MiB take well under a
minute (16-22 s for a scan's by the AWS projection), inside the scan and convert
functions' 90 s that an EXPRESS child's 5 minutes allow (a retry runs the whole batch
again; ``catalog.EXPRESS_STEP_TIMEOUT_S``)."""

BATCH_BYTES = MAX_BATCH * 64 * 1024 * 1024
"""The most bytes of ranges one child takes: ``MAX_BATCH`` chunks of the catalogue's
64 MiB. Smaller chunks go more to a child (``most_per_batch``), whose time is then
mostly each item's requests, not its bytes."""

MAX_BATCH_ITEMS = 64
"""The most items one child takes however small they are: its results (a chunk's scan is
under 2 KB, its ragged rows' samples included) stay well inside the 256 KiB of a
child's output."""


Item = TypeVar("Item")


class ItemsRef(BaseModel):
    """A JSON list in S3 that a Distributed Map reads its items from (ItemReader)."""

    bucket: str
    key: str


def put_items(where: ItemsRef, items: Sequence[BaseModel]) -> None:
    """Write ``items`` as the JSON list a Distributed Map's ItemReader reads: in S3, not
    in the state (256 KB would hold about a thousand)."""
    body = json.dumps([item.model_dump(mode="json") for item in items])
    objects.put_bytes(where.bucket, where.key, body.encode(), "application/json")


def dealt(items: Sequence[Item], batch: int) -> list[Item]:
    """``items`` reordered so that the ItemBatcher, which cuts the list into consecutive
    batches of ``batch`` (the last may be shorter), gives each batch every n-th item: they
    are dealt to the batches in turn (a full one skipped). Items next to each other, often
    alike in size (one dataset's parts, then another's), then run side by side in
    different invocations, not one after the other in one."""
    count = len(items)
    runs = max(1, math.ceil(count / batch))
    sizes = [batch] * (runs - 1) + [count - batch * (runs - 1)]
    hands: list[list[Item]] = [[] for _ in range(runs)]
    turn = 0
    for item in items:
        while len(hands[turn]) == sizes[turn]:
            turn = (turn + 1) % runs
        hands[turn].append(item)
        turn = (turn + 1) % runs
    return [item for hand in hands for item in hand]


def map_concurrency(cfg: Settings) -> int:
    """A Distributed Map's MaxConcurrency: the catalogue's (``SLUICE_MAP_CONCURRENCY``),
    held to the local system's workers where it has them (no more children at once than
    can run)."""
    if cfg.workers:
        return max(1, min(cfg.workers, cfg.map_concurrency))
    return max(1, cfg.map_concurrency)


def most_per_batch(item_bytes: int) -> int:
    """How many items of up to ``item_bytes`` bytes one child takes at most: ``MAX_BATCH``
    of the catalogue's chunks, as many more as make ``BATCH_BYTES`` of smaller ones (at
    most ``MAX_BATCH_ITEMS``), and ``MAX_BATCH`` of larger ones."""
    return max(MAX_BATCH, min(MAX_BATCH_ITEMS, BATCH_BYTES // max(item_bytes, 1)))


def batch_size(count: int, concurrency: int, most: int = MAX_BATCH) -> int:
    """Items per child (ItemBatcher): as many as make one round of ``concurrency``
    invocations (1,600 chunks at 1,000: 800 of two, not 1,000 and then 600 of one),
    at most ``most``."""
    return max(1, min(most, math.ceil(count / concurrency)))


def batch_for(item_bytes: Sequence[int], concurrency: int) -> int:
    """Items per child for items of these sizes in bytes: ``batch_size`` with at most
    ``most_per_batch`` of the largest."""
    return batch_size(len(item_bytes), concurrency, most_per_batch(max(item_bytes, default=0)))


SHUFFLE_BATCH = 1
"""A shuffle's buckets go one to a child: each is a share of the data whose size the
partitioning only estimates (a sort's sampled ranges, a hash's skew), so children that
each take the next bucket when done balance them, where fixed batches left one worker
idle while the other ran its larger half. In AWS a shuffle's at most 256 buckets are one
round of MaxConcurrency: one each there anyway."""


class ResultWriterDetails(BaseModel):
    """Where a Map Run's manifest is: the state's ``ResultWriterDetails``."""

    Bucket: str
    Key: str


class ChildFailure(BaseModel):
    """A failed child execution's error, as Step Functions recorded it."""

    Error: str
    Cause: str | None = None
    input: Any = None


def _entries(bucket: str, manifest: dict[str, Any], status: str) -> list[dict[str, Any]]:
    keys = [listed["Key"] for listed in manifest["ResultFiles"].get(status, [])]
    return [entry for body in objects.get_all(bucket, keys) for entry in json.loads(body)]


def outputs(details: ResultWriterDetails) -> list[Any]:
    """Every succeeded child's output, parsed; in no particular order (AWS lists them as
    they finished): the caller orders them by what they hold."""
    manifest = json.loads(objects.get_bytes(details.Bucket, details.Key))
    return [json.loads(entry["Output"]) for entry in _entries(details.Bucket, manifest, SUCCEEDED)]


def failures(bucket: str, prefix: str) -> list[ChildFailure]:
    """The failed children of every Map Run whose results were written under ``prefix``
    (a failed Map Run's state has no ``ResultWriterDetails`` to name its manifest)."""
    found: list[ChildFailure] = []
    for key in sorted(objects.list_keys(bucket, prefix)):
        if not key.endswith(f"/{MANIFEST}"):
            continue
        manifest = json.loads(objects.get_bytes(bucket, key))
        for status in ("FAILED", "PENDING"):
            for entry in _entries(bucket, manifest, status):
                if "Error" in entry:
                    found.append(
                        ChildFailure(
                            Error=entry["Error"],
                            Cause=entry.get("Cause"),
                            input=json.loads(entry["Input"]) if "Input" in entry else None,
                        )
                    )
    return found


def first_failure(bucket: str, prefix: str, field: str) -> ChildFailure | None:
    """Of the failed children under ``prefix`` (see :func:`failures`), the one whose
    batch holds the item with the least ``field`` (a chunk's or part's index, a bucket):
    the first failure in the data's own order, not in the order the children ended."""

    def position(failure: ChildFailure) -> int:
        items = failure.input.get("Items") if isinstance(failure.input, dict) else None
        found = [item[field] for item in items or [] if isinstance(item, dict) and field in item]
        return min(found, default=0)

    return min(failures(bucket, prefix), key=position, default=None)


__all__ = [
    "BATCH_BYTES",
    "MAX_BATCH",
    "MAX_BATCH_ITEMS",
    "THRESHOLD_EXCEEDED",
    "ChildFailure",
    "ItemsRef",
    "ResultWriterDetails",
    "batch_for",
    "batch_size",
    "dealt",
    "failures",
    "first_failure",
    "map_concurrency",
    "most_per_batch",
    "outputs",
    "put_items",
]
