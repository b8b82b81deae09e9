"""Where a scan batch stores what its chunks learned: once a group of them, each group's
statistics under a key its chunks name."""

from __future__ import annotations

from sluice.datasets.workspace import Workspace
from sluice.ingest.models import ChunkItem, DatasetRef, ObjectRef, ScanInput
from sluice.ingest.scan_groups import GROUP_BYTES, group_key, sync_groups

WORK = Workspace("owner", "dataset", "run")


def scans(*sizes: int) -> list[ScanInput]:
    """Scans of consecutive ranges of ``sizes`` bytes, indexed in order."""
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    return [
        ScanInput(
            dataset=DatasetRef(owner="o", id="d", run="r"),
            object=ObjectRef(bucket="b", key="k", size=sum(sizes)),
            na_values=[],
            max_categories=10,
            chunk=ChunkItem(index=i, start=start, end=start + size),
        )
        for i, (start, size) in enumerate(zip(starts, sizes, strict=True))
    ]


def indices(groups: list[list[ScanInput]]) -> list[list[int]]:
    return [[scan.chunk.index for scan in group] for group in groups]


def test_small_chunks_share_a_group_of_at_most_group_bytes() -> None:
    quarter = GROUP_BYTES // 4
    assert indices(list(sync_groups(scans(*[quarter] * 9)))) == [
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [8],
    ]


def test_a_chunk_of_group_bytes_or_more_is_a_group_alone() -> None:
    big = 4 * GROUP_BYTES
    assert indices(list(sync_groups(scans(big, big, 10)))) == [[0], [1], [2]]
    assert list(sync_groups([])) == []


def test_a_chunk_alone_is_stored_under_its_index() -> None:
    assert group_key(WORK, [7]) == "work/owner/dataset/run/stats/000007.json"


def test_a_groups_key_names_its_first_chunk_and_tells_other_groups_apart() -> None:
    scanned = group_key(WORK, [9, 5, 1])
    assert scanned.startswith("work/owner/dataset/run/stats/000009-")
    # A rescan's group with the same first chunk is another object; the same chunks
    # (a retried batch) are the same one.
    assert group_key(WORK, [9, 1]) != scanned
    assert group_key(WORK, [9, 5, 1]) == scanned
