"""Import jobs in the records table, under their owner."""

from __future__ import annotations

import builtins
from typing import Any

from sluice.networks.import_models import ImportJob, ImportStatus
from sluice.store.owned_records import OwnedRecords

PREFIX = "IMPORT#"
GUARD = "GUARD#IMPORTS"
"""The owner's count of import jobs created: moved by each create, in the same
transaction, so that two creates checking the pending limits at once cannot both land."""


class ImportJobRepository(OwnedRecords[ImportJob]):
    """Import jobs, always addressed through their owner."""

    def __init__(self, table_name: str) -> None:
        super().__init__(table_name, "import job", PREFIX)

    def _load(self, data: dict[str, Any]) -> ImportJob:
        return ImportJob.model_validate(data)

    def create(self, owner: str, job: ImportJob) -> None:
        self._put_new(owner, job.id, job.model_dump(mode="json", exclude_none=True))

    def creates_seen(self, owner: str) -> int:
        """How many jobs the owner has created: read before counting their pending jobs,
        so that ``create_unless_raced`` can tell whether another create landed since."""
        return self._guard_version(owner, GUARD)

    def create_unless_raced(self, owner: str, job: ImportJob, seen: int) -> bool:
        """Record the job only if no other job of the owner was created since ``seen``
        was read; False (nothing written) if one was."""
        data = job.model_dump(mode="json", exclude_none=True)
        return self._put_new_unless_moved(owner, job.id, data, GUARD, seen)

    def list(
        self, owner: str, limit: int, next_token: str | None
    ) -> tuple[builtins.list[ImportJob], str | None]:
        """A page of the owner's jobs."""
        return self._page(owner, limit, next_token)

    def all(self, owner: str) -> builtins.list[ImportJob]:
        """Every job of the owner (for the pending limits: a user has few)."""
        jobs: builtins.list[ImportJob] = []
        token: str | None = None
        while True:
            page, token = self._page(owner, 100, token, consistent=True)
            jobs.extend(page)
            if token is None:
                return jobs

    def move(
        self,
        owner: str,
        job_id: str,
        expected: ImportStatus,
        status: ImportStatus,
        changes: dict[str, Any] | None = None,
    ) -> ImportJob | None:
        """Set the job's status to ``status`` (and ``changes``) only if it is ``expected``
        now: one conditional write, so that a cancel and an upload cannot both win. None
        when the job is gone or in another status."""
        return self._update(
            owner,
            job_id,
            {**(changes or {}), "status": status.value},
            only_if=("status", expected.value),
        )

    def set(self, owner: str, job_id: str, changes: dict[str, Any]) -> ImportJob | None:
        """Write ``changes`` (None when the job is gone)."""
        return self._update(owner, job_id, changes)
