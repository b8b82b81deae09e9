"""Duplicate uploads: the same bytes (by ``content_hash``) already held by another of the
owner's datasets.

An index item per content hash (sk "CONTENT#<hex>") names the dataset that holds it.
It may go stale (that dataset was deleted or got other content since), so a claim
checks the named dataset before believing it.
"""

from __future__ import annotations

from sluice.datasets.repository import DatasetRepository
from sluice.store.records import RecordTable


class DuplicateContent(Exception):
    """The content is already held by another dataset of the same owner."""

    def __init__(self, holder: str) -> None:
        super().__init__(f"the same content is already in dataset {holder}")
        self.holder = holder


def _sk(digest: str) -> str:
    return f"CONTENT#{digest}"


def holder_of(table_name: str, owner: str, digest: str, asking: str | None = None) -> str | None:
    """The id of another live dataset of ``owner`` whose content has this hash, if any."""
    index = RecordTable(table_name).get(owner, _sk(digest))
    if not index or index.get("dataset_id") == asking:
        return None
    holder = DatasetRepository(table_name).find(owner, index["dataset_id"])
    if holder is None or holder.content_hash != digest:
        return None  # stale: deleted, or it holds other content now
    return holder.id


def claim(table_name: str, owner: str, dataset_id: str, digest: str, allow: bool) -> None:
    """Record that ``dataset_id`` holds this content; DuplicateContent if another does
    (unless the owner asked for a copy)."""
    holder = holder_of(table_name, owner, digest, asking=dataset_id)
    if holder and not allow:
        raise DuplicateContent(holder)
    if not holder:
        RecordTable(table_name).put(owner, _sk(digest), {"dataset_id": dataset_id})


def release(table_name: str, owner: str, dataset_id: str, digest: str | None) -> None:
    """Forget the index item if it names this dataset (it is being deleted)."""
    if not digest:
        return
    records = RecordTable(table_name)
    index = records.get(owner, _sk(digest))
    if index and index.get("dataset_id") == dataset_id:
        records.delete(owner, _sk(digest))
