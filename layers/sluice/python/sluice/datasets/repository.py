"""Datasets in the records table."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from typing import Any

from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from sluice.datasets.models import (
    Dataset,
    DatasetChanges,
    DatasetStatus,
    OpenUpload,
    RemovableField,
)
from sluice.store.owned_records import OwnedRecords
from sluice.store.records import PathChanges

TICKETS = "upload_tickets"

PREFIX = "DATASET#"

# Shares of the progress bar: preparing the file (decompressing or transcoding it, where it
# needs it), planning, scanning the chunks, converting them; finishing takes the rest.
_PREPARE_SHARE, _PLAN_SHARE, _SCAN_SHARE, _CONVERT_SHARE = 0.05, 0.05, 0.55, 0.3


def preparing_progress(done: float) -> float:
    """The progress of a run whose file is ``done`` (0..1) decompressed or transcoded."""
    return round(_PREPARE_SHARE * min(max(done, 0.0), 1.0), 4)


def _load(data: dict[str, Any]) -> Dataset:
    dataset = Dataset.model_validate(data)
    if dataset.status is DatasetStatus.INFERRING and dataset.chunk_count:
        chunks = dataset.chunk_count
        scanned = min(dataset.chunks_done, chunks) / chunks
        converted = min(dataset.parts_done, chunks) / chunks
        dataset.progress = round(
            _PREPARE_SHARE + _PLAN_SHARE + _SCAN_SHARE * scanned + _CONVERT_SHARE * converted,
            4,
        )
    return dataset


class DatasetRepository(OwnedRecords[Dataset]):
    """Datasets, always addressed through their owner."""

    def __init__(self, table_name: str) -> None:
        super().__init__(table_name, "dataset", PREFIX)

    def _load(self, data: dict[str, Any]) -> Dataset:
        return _load(data)

    def create(self, dataset: Dataset) -> None:
        data = dataset.model_dump(mode="json")
        data[TICKETS] = {
            name: ticket.model_dump(mode="json", exclude_none=True)
            for name, ticket in dataset.upload_tickets.items()
        }
        self._put_new(dataset.owner, dataset.id, data)

    def open_ticket(
        self,
        owner: str,
        dataset_id: str,
        name: str,
        ticket: OpenUpload,
        drop: builtins.list[str],
    ) -> Dataset | None:
        """Record the upload ticket ``name`` (and forget the tickets ``drop``), beside any
        other written meanwhile; None when the dataset is gone."""
        entry = ticket.model_dump(mode="json", exclude_none=True)
        paths = PathChanges(
            set={(TICKETS, name): entry}, remove=tuple((TICKETS, old) for old in drop)
        )
        try:
            return self._update(owner, dataset_id, {}, paths=paths)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ValidationException":
                raise
        # A record written before tickets existed has no map to add an entry to: start it,
        # unless another request did meanwhile (then add to that one).
        started = self._update(
            owner, dataset_id, {TICKETS: {name: entry}}, paths=PathChanges(absent=((TICKETS,),))
        )
        return started or self._update(owner, dataset_id, {}, paths=paths)

    def close_ticket(self, owner: str, dataset_id: str, name: str) -> None:
        """Forget the upload ticket ``name`` (an upload in parts aborted)."""
        self._update(owner, dataset_id, {}, paths=PathChanges(remove=((TICKETS, name),)))

    def list(
        self, owner: str, limit: int, next_token: str | None
    ) -> tuple[builtins.list[Dataset], str | None]:
        """A page of the owner's datasets."""
        return self._page(owner, limit, next_token)

    def list_all(self, owner: str) -> builtins.list[Dataset]:
        """Every dataset of the owner (for the folder tree)."""
        found: builtins.list[Dataset] = []
        token: str | None = None
        while True:
            page, token = self.list(owner, 100, token)
            found.extend(page)
            if not token:
                return found

    def ready_without_table(self) -> Iterator[Dataset]:
        """Every owner's ready datasets that name no Glue table (recorded before the
        catalogue existed, or refused by Glue), for ``query_tables.backfill``."""
        return self._scan_all(
            Attr("status").eq(DatasetStatus.READY.value)
            & (Attr("query_table").not_exists() | Attr("query_table").attribute_type("NULL"))
        )

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
        use_ticket: tuple[str, str] | None = None,
    ) -> Dataset | None:
        """Apply ``changes``; None when the dataset is gone or a condition fails.

        ``only_if_run`` lets a pipeline step write only while its execution is still the
        dataset's current ingest, so a superseded run cannot overwrite a newer one.
        ``use_ticket`` (upload name, ETag) applies them only if that upload's ticket is
        recorded and unused, and marks it used by that file, in the same write.
        """
        paths = None
        if use_ticket:
            name, etag = use_ticket
            paths = PathChanges(
                set={(TICKETS, name, "used"): etag},
                present=((TICKETS, name),),
                absent=((TICKETS, name, "used"),),
            )
        return self._update(
            owner,
            dataset_id,
            changes.written(),
            remove=remove,
            add={"chunks_done": add_chunks_done, "parts_done": add_parts_done},
            only_if=("ingest_run", only_if_run) if only_if_run else None,
            unless=("ingest_run", unless_run) if unless_run else None,
            paths=paths,
        )
