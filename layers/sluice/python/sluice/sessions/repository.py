"""Sessions and their operations in the records table, under their owner."""

from __future__ import annotations

import builtins
from typing import Any

from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from sluice.sessions.models import Session, SessionChanges
from sluice.sessions.operation_models import (
    OperationChanges,
    OperationStatus,
    PartWritten,
    SessionOperation,
)
from sluice.store.owned_records import OwnedRecords
from sluice.store.records import PathChanges

SESSION_PREFIX = "SESSION#"
OPERATION_PREFIX = "SESSIONOP#"
_PARTS_SHARE, _BUCKETS_SHARE = 0.6, 0.35
WRITTEN = "written"


class SessionRepository(OwnedRecords[Session]):
    """Sessions, always addressed through their owner."""

    def __init__(self, table_name: str) -> None:
        super().__init__(table_name, "session", SESSION_PREFIX)

    def _load(self, data: dict[str, Any]) -> Session:
        return Session.model_validate(data)

    def create(self, session: Session) -> None:
        self._put_new(session.owner, session.id, session.model_dump(mode="json"))

    def list(
        self, owner: str, limit: int, next_token: str | None
    ) -> tuple[builtins.list[Session], str | None]:
        """A page of the owner's sessions."""
        return self._page(owner, limit, next_token)

    def update(self, owner: str, session_id: str, changes: SessionChanges) -> Session | None:
        """Apply ``changes``; None when the session is gone."""
        return self._update(owner, session_id, changes.written())


def _load_operation(data: dict[str, Any]) -> SessionOperation:
    operation = SessionOperation.model_validate(data)
    if operation.status is OperationStatus.IN_PROGRESS and operation.parts:
        parts = min(operation.parts_done, operation.parts) / operation.parts
        if operation.buckets:
            buckets = min(operation.buckets_done, operation.buckets) / operation.buckets
            progress = _PARTS_SHARE * parts + _BUCKETS_SHARE * buckets
        else:
            progress = (_PARTS_SHARE + _BUCKETS_SHARE) * parts
        operation.progress = round(progress, 4)
    return operation


class OperationRepository(OwnedRecords[SessionOperation]):
    """Operations of sessions, always addressed through their owner."""

    def __init__(self, table_name: str) -> None:
        super().__init__(table_name, "operation", OPERATION_PREFIX)

    def _load(self, data: dict[str, Any]) -> SessionOperation:
        return _load_operation(data)

    def create(self, operation: SessionOperation) -> None:
        data = operation.model_dump(mode="json")
        data.update(
            inputs=operation.inputs,
            datasets={
                key: [d.model_dump(mode="json") for d in items]
                for key, items in operation.datasets.items()
            },
            output_dataset=operation.output_dataset,
            data_key=operation.data_key,
            result_of=operation.result_of,
            parts_done=0,
            buckets_done=0,
            written={},  # each step adds its parts as entries, beside the others'
        )
        self._put_new(operation.owner, operation.id, data)

    def list(
        self, owner: str, session_id: str, limit: int, next_token: str | None
    ) -> tuple[builtins.list[SessionOperation], str | None]:
        """A page of the session's operations."""
        return self._page(owner, limit, next_token, Attr("session_id").eq(session_id))

    def sharing(self, owner: str, result_of: str) -> builtins.list[SessionOperation]:
        """Every operation of the owner's that answers with the outputs of run
        ``result_of`` (the run itself, and the cached answers it gave), in any session."""
        found: builtins.list[SessionOperation] = []
        token: str | None = None
        while True:
            page, token = self._page_where(owner, 100, token, result_of=result_of)
            found.extend(page)
            if not token:
                return found

    def update(
        self,
        owner: str,
        operation_id: str,
        changes: OperationChanges,
        *,
        only_if_status: OperationStatus | None = None,
        add_parts_done: int = 0,
        add_buckets_done: int = 0,
        add_written: dict[str, PartWritten] | None = None,
    ) -> SessionOperation | None:
        """Apply ``changes`` (and record output parts ``add_written``, by file name, each an
        entry of its own so that steps finishing at once keep each other's); None when the
        operation is gone or ``only_if_status`` fails."""
        entries = {name: part.model_dump() for name, part in (add_written or {}).items()}
        common: dict[str, Any] = {
            "add": {"parts_done": add_parts_done, "buckets_done": add_buckets_done},
            "only_if": ("status", only_if_status.value) if only_if_status else None,
        }
        paths = PathChanges(set={(WRITTEN, name): entry for name, entry in entries.items()})
        try:
            return self._update(owner, operation_id, changes.written(), paths=paths, **common)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ValidationException" or not entries:
                raise
        # A record from before the map existed (nothing was written: the update failed
        # whole): start it, unless another step did meanwhile (then add to that one).
        started = self._update(
            owner,
            operation_id,
            {**changes.written(), WRITTEN: entries},
            paths=PathChanges(absent=((WRITTEN,),)),
            **common,
        )
        if started is not None:
            return started
        try:
            return self._update(owner, operation_id, changes.written(), paths=paths, **common)
        except ClientError:  # still no map: the start failed on the status, not the map
            return None
