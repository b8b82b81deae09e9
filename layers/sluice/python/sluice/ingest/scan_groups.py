"""What a scan batch keeps between its chunks, and stores once a group of them.

A chunk's scan reads its range and writes its typed part; the rest of what it learns
goes out once per group of the batch's chunks (``sync_groups``), not once per chunk:
the group's statistics in one object (``stats/`` in the run's work folder), its counts
added to the run's evidence (read at the group's first typed chunk, written once its last
is scanned, before that scan returns) and its chunks to the record's progress (one
update); the batch reads the dataset's record once, and its bytes in one GET where they
lie close together. At 64 MiB a group is one chunk, as each chunk's scan takes seconds,
so the later scans see the earlier ones' evidence as soon as it is there, as before;
small chunks go in groups of ``GROUP_BYTES``, where the requests, not the bytes, were
the scans' cost (a file of 64-byte chunks: 8 requests a chunk, ~0.1 s).

A group's object is named by its chunks (``group_key``), so a retried batch writes the
same objects again; each scan's result names the object that holds its statistics,
which Decide reads once per group (a rescan's group is another object, named by the
rescanned chunks).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel

from sluice.csv.scan import SCAN_OVERFLOW
from sluice.datasets.models import Dataset, DatasetChanges
from sluice.datasets.repository import DatasetRepository
from sluice.datasets.workspace import Workspace
from sluice.inference.scan_evidence import Evidence, added, evidence_of
from sluice.inference.schema import ChunkStats
from sluice.ingest.models import DatasetRef, ObjectRef, ScanInput
from sluice.store import objects

GROUP_BYTES = 16 * 1024 * 1024
"""How many bytes of chunks a group holds at most, unless one chunk alone is more: a
group of small chunks takes well under a second to scan, so the scans of other batches
see its evidence, and the record its progress, about as soon as with one a chunk."""


PREFETCH_BYTES = 8 * 1024 * 1024
"""A batch whose ranges (and the bytes past them a scan reads) lie within this many bytes
reads them in one GET: a GET costs the embedded S3 as much as reading megabytes, and a
batch of small chunks of a small file would otherwise make one a chunk."""


class StatsGroup(BaseModel):
    """The type statistics of a group's chunks with rows, by chunk index."""

    chunks: dict[int, ChunkStats]


def sync_groups(scans: Sequence[ScanInput]) -> Iterator[list[ScanInput]]:
    """``scans`` in their order, cut into groups of at most ``GROUP_BYTES`` of ranges
    (at least one chunk each): where a batch stores what its scans learned."""
    group: list[ScanInput] = []
    size = 0
    for scan in scans:
        length = scan.chunk.end - scan.chunk.start
        if group and size + length > GROUP_BYTES:
            yield group
            group, size = [], 0
        group.append(scan)
        size += length
    if group:
        yield group


def group_key(workspace: Workspace, indices: Sequence[int]) -> str:
    """The key of the statistics of chunks ``indices``: a chunk alone has the name of its
    index; a group, its first chunk's and a digest of all of them (a rescan's group of
    other chunks with the same first is another object)."""
    if len(indices) == 1:
        return f"{workspace.stats}{indices[0]:06d}.json"
    named = ",".join(str(i) for i in sorted(indices)).encode()
    return f"{workspace.stats}{indices[0]:06d}-{hashlib.sha256(named).hexdigest()[:12]}.json"


@dataclass
class ScanContext:
    """What one scan batch holds between its chunks: the dataset's record (read once a
    batch), its chunks' groups, the run's evidence as read at the current group's first
    typed chunk, and the group's statistics and counts, not stored yet."""

    repo: DatasetRepository
    dataset: Dataset
    ref: DatasetRef
    bucket: str
    groups: dict[int, tuple[int, ...]] = field(default_factory=dict)
    stored: Evidence | None = None
    pending: Evidence = field(default_factory=dict)
    stats: dict[int, ChunkStats] = field(default_factory=dict)
    prefetched: tuple[int, bytes] = (0, b"")

    @classmethod
    def start(
        cls, repo: DatasetRepository, ref: DatasetRef, bucket: str, scans: Sequence[ScanInput]
    ) -> ScanContext:
        """A batch's context: one read of the record, its chunks cut into groups
        (``sync_groups``), and one read of the batch's bytes where they lie close together
        (``PREFETCH_BYTES``)."""
        context = cls(repo, repo.get(ref.owner, ref.id), ref, bucket)
        for group in sync_groups(scans):
            indices = tuple(scan.chunk.index for scan in group)
            context.groups.update((index, indices) for index in indices)
        if scans:
            obj = scans[0].object
            low = min(0 if s.chunk.index == 0 else max(s.chunk.start - 1, 0) for s in scans)
            high = min(obj.size, max(s.chunk.end for s in scans) + SCAN_OVERFLOW)
            if high - low <= PREFETCH_BYTES:
                context.prefetched = (low, objects.read_range(obj.bucket, obj.key, low, high))
        return context

    def read(self, obj: ObjectRef, start: int, end: int) -> bytes:
        """Bytes [start, end) of the object: from the batch's bytes where it read them."""
        low, data = self.prefetched
        end = min(end, obj.size)  # as S3 answers a range past the end
        if low <= start and end <= low + len(data):
            return data[start - low : end - low]
        return objects.read_range(obj.bucket, obj.key, start, end)

    @property
    def workspace(self) -> Workspace:
        return Workspace(self.ref.owner, self.ref.id, self.ref.run)

    def evidence(self) -> Evidence:
        """The counts to type a chunk by: the run's, read at the group's first chunk that
        needs them (what the scans that ended before it stored), and this group's."""
        if self.stored is None:
            self.stored = load_evidence(self.bucket, self.workspace)
        return added(self.stored, self.pending)

    def scanned(self, index: int, stats: ChunkStats) -> str:
        """Note chunk ``index``'s statistics, to store with its group; the key they will
        be stored at."""
        self.stats[index] = stats
        self.pending = added(self.pending, evidence_of(stats))
        return group_key(self.workspace, self.groups[index])

    def done(self, index: int) -> None:
        """Chunk ``index`` is scanned: where it ends its group, store what the group
        learned before its scan returns, as a scan of a chunk alone does."""
        indices = self.groups[index]
        if index != indices[-1]:
            return
        if self.stats:
            objects.put_json(
                self.bucket, group_key(self.workspace, indices), StatsGroup(chunks=self.stats)
            )
        if self.pending and self.stored is not None:
            # The sum is only a hint: two groups writing at once may lose one's counts
            # (Decide still merges every chunk's statistics).
            body = json.dumps(added(self.stored, self.pending), separators=(",", ":")).encode()
            objects.put_bytes(self.bucket, self.workspace.evidence, body, "application/json")
        ref = self.ref
        self.repo.update(
            ref.owner, ref.id, DatasetChanges(), add_chunks_done=len(indices), only_if_run=ref.run
        )
        self.stored, self.pending, self.stats = None, {}, {}


def load_evidence(bucket: str, workspace: Workspace) -> Evidence:
    """The counts the run's scans stored so far (none before the first): in S3, not in
    the record, since they are a dozen numbers a column."""
    body = objects.find_bytes(bucket, workspace.evidence)
    return {} if body is None else dict(json.loads(body))


STATS_GETS = 64
"""Decide's GETs of the groups' statistics in flight at once: each object is a few KB and
its GET waits on its round trip, so 1,491 groups at 100 GB take 24 round trips, not 94
at ``objects.PARALLEL_GETS`` (~2 s less by the AWS projection's 30 ms a request)."""


def load_stats(bucket: str, chunks: Sequence[tuple[int, str]]) -> list[ChunkStats]:
    """The statistics of each chunk (index, key of its group's object), in the order
    given: one GET a group, ``STATS_GETS`` at once."""
    keys = list(dict.fromkeys(key for _, key in chunks))
    bodies = objects.get_all(bucket, keys, threads=STATS_GETS)
    groups = {
        key: StatsGroup.model_validate_json(body) for key, body in zip(keys, bodies, strict=True)
    }
    return [groups[key].chunks[index] for index, key in chunks]
