"""Datasets in the records table."""

from __future__ import annotations

import builtins
from typing import Any

from sluice.datasets.models import (
    Dataset,
    DatasetChanges,
    DatasetStatus,
    RemovableField,
    utcnow,
)
from sluice.errors import NotFound
from sluice.store.records import RecordTable

PREFIX = "DATASET#"

# Shares of the progress bar: planning, scanning the chunks, converting them; finishing
# takes the rest.
_PLAN_SHARE, _SCAN_SHARE, _CONVERT_SHARE = 0.05, 0.6, 0.3


def _sk(dataset_id: str) -> str:
    return f"{PREFIX}{dataset_id}"


def _load(data: dict[str, Any]) -> Dataset:
    dataset = Dataset.model_validate(data)
    if dataset.status is DatasetStatus.INFERRING and dataset.chunk_count:
        chunks = dataset.chunk_count
        scanned = min(dataset.chunks_done, chunks) / chunks
        converted = min(dataset.parts_done, chunks) / chunks
        dataset.progress = round(
            _PLAN_SHARE + _SCAN_SHARE * scanned + _CONVERT_SHARE * converted, 4
        )
    return dataset


class DatasetRepository:
    """Datasets, always addressed through their owner."""

    def __init__(self, table_name: str) -> None:
        self._records = RecordTable(table_name)

    def create(self, dataset: Dataset) -> None:
        data = dataset.model_dump(mode="json")
        data["owner"] = dataset.owner
        self._records.put(dataset.owner, _sk(dataset.id), data, must_be_new=True)

    def get(self, owner: str, dataset_id: str) -> Dataset:
        """The owner's dataset; NotFound for an unknown id or another owner's."""
        data = self._records.get(owner, _sk(dataset_id))
        if data is None:
            raise NotFound(f"dataset {dataset_id} not found")
        return _load(data)

    def find(self, owner: str, dataset_id: str) -> Dataset | None:
        data = self._records.get(owner, _sk(dataset_id))
        return None if data is None else _load(data)

    def list(
        self, owner: str, limit: int, next_token: str | None
    ) -> tuple[list[Dataset], str | None]:
        items, token = self._records.query(owner, PREFIX, limit, next_token)
        return [_load(i) for i in items], token

    def list_all(self, owner: str) -> builtins.list[Dataset]:
        """Every dataset of the owner (for the folder tree)."""
        found: builtins.list[Dataset] = []
        token: str | None = None
        while True:
            page, token = self.list(owner, 100, token)
            found.extend(page)
            if not token:
                return found

    def update(
        self,
        owner: str,
        dataset_id: str,
        changes: DatasetChanges,
        *,
        remove: tuple[RemovableField, ...] = (),
        only_if_run: str | None = None,
        unless_run: str | None = None,
        add_chunks_done: int = 0,
        add_parts_done: int = 0,
    ) -> Dataset | None:
        """Apply ``changes``; None when the dataset is gone or the run condition fails.

        ``only_if_run`` lets a pipeline step write only while its execution is still the
        dataset's current ingest, so a superseded run cannot overwrite a newer one.
        """
        data = self._records.update(
            owner,
            _sk(dataset_id),
            {**changes.written(), "updated_at": utcnow().isoformat()},
            remove=remove,
            add={
                name: amount
                for name, amount in (
                    ("chunks_done", add_chunks_done),
                    ("parts_done", add_parts_done),
                )
                if amount
            },
            only_if=("ingest_run", only_if_run) if only_if_run else None,
            unless=("ingest_run", unless_run) if unless_run else None,
        )
        return None if data is None else _load(data)

    def delete(self, owner: str, dataset_id: str) -> None:
        if not self._records.delete(owner, _sk(dataset_id)):
            raise NotFound(f"dataset {dataset_id} not found")
