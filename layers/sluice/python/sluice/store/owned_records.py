"""One kind of record (datasets, tasks, ...) under its owner: the reads, writes and
NotFound answers every repository shares, so that each states only what is its own."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Generic, TypeVar

from boto3.dynamodb.conditions import Attr

from sluice.errors import NotFound
from sluice.store.records import PathChanges, RecordTable

Record = TypeVar("Record")


class OwnedRecords(Generic[Record]):
    """Records whose sort key is ``<prefix><id>`` in their owner's partition. Another
    owner's id is simply not found: isolation comes from the key."""

    def __init__(self, table_name: str, kind: str, prefix: str) -> None:
        self._records = RecordTable(table_name)
        self._kind = kind
        self._prefix = prefix

    def _load(self, data: dict[str, Any]) -> Record:
        """The record from its stored attributes (a subclass adds what it derives)."""
        raise NotImplementedError

    def _sk(self, record_id: str) -> str:
        return f"{self._prefix}{record_id}"

    def _put_new(self, owner: str, record_id: str, data: dict[str, Any]) -> None:
        self._records.put(owner, self._sk(record_id), {**data, "owner": owner}, must_be_new=True)

    def get(self, owner: str, record_id: str) -> Record:
        """The owner's record; NotFound for an unknown id or another owner's."""
        found = self.find(owner, record_id)
        if found is None:
            raise NotFound(f"{self._kind} {record_id} not found")
        return found

    def find(self, owner: str, record_id: str) -> Record | None:
        """The owner's record, or None."""
        data = self._records.get(owner, self._sk(record_id))
        return None if data is None else self._load(data)

    def _page(
        self,
        owner: str,
        limit: int,
        next_token: str | None,
        condition: Any = None,
        *,
        consistent: bool = False,
    ) -> tuple[builtins.list[Record], str | None]:
        items, token = self._records.query(
            owner, self._prefix, limit, next_token, condition, consistent=consistent
        )
        return [self._load(item) for item in items], token

    def _scan_all(self, condition: Any = None) -> Iterator[Record]:
        """Every owner's records (matching ``condition``): maintenance only."""
        for item in self._records.scan(self._prefix, condition):
            yield self._load(item)

    def _guard_version(self, owner: str, guard: str) -> int:
        """The owner's counter ``guard`` of creates, read before the records a limit is
        counted over (see ``_put_new_unless_moved``)."""
        return self._records.version(owner, guard)

    def _put_new_unless_moved(
        self, owner: str, record_id: str, data: dict[str, Any], guard: str, version: int
    ) -> bool:
        """Create the record only if no other create moved the owner's ``guard`` past
        ``version`` since it was read; False (nothing written) if one did."""
        return self._records.put_if_unchanged(
            owner, self._sk(record_id), {**data, "owner": owner}, guard=guard, version=version
        )

    def _page_where(
        self, owner: str, limit: int, next_token: str | None, **equal: str | None
    ) -> tuple[builtins.list[Record], str | None]:
        """A page of the owner's records whose attributes equal those given (a None
        value: any)."""
        condition = None
        for name, wanted in equal.items():
            if wanted is not None:
                term = Attr(name).eq(wanted)
                condition = term if condition is None else condition & term
        return self._page(owner, limit, next_token, condition)

    def _update(
        self,
        owner: str,
        record_id: str,
        changes: dict[str, Any],
        *,
        remove: tuple[str, ...] = (),
        add: dict[str, int] | None = None,
        only_if: tuple[str, Any] | None = None,
        unless: tuple[str, Any] | None = None,
        paths: PathChanges | None = None,
    ) -> Record | None:
        """Write ``changes`` (stamped ``updated_at``) and counter ``add``itions; None when
        the record is gone or a condition fails."""
        data = self._records.update(
            owner,
            self._sk(record_id),
            {**changes, "updated_at": datetime.now(UTC).isoformat()},
            remove=remove,
            add={name: amount for name, amount in (add or {}).items() if amount},
            only_if=only_if,
            unless=unless,
            paths=paths,
        )
        return None if data is None else self._load(data)

    @staticmethod
    def _status_is(status: Enum | frozenset[Enum] | None) -> tuple[str, Any] | None:
        """The ``only_if`` condition that the record's status is ``status``, or one of a
        set of them (None: no condition)."""
        if status is None:
            return None
        if isinstance(status, frozenset):
            return ("status", frozenset(each.value for each in status))
        return ("status", status.value)

    def delete(self, owner: str, record_id: str) -> None:
        """Delete the owner's record; NotFound if there is none."""
        if not self._records.delete(owner, self._sk(record_id)):
            raise NotFound(f"{self._kind} {record_id} not found")
