"""Import jobs in the records table, under their owner."""

from __future__ import annotations

import builtins
from typing import Any

from sluice.networks.import_models import ImportJob, ImportStatus
from sluice.store.owned_records import OwnedRecords

PREFIX = "IMPORT#"


class ImportJobRepository(OwnedRecords[ImportJob]):
    """Import jobs, always addressed through their owner."""

    def __init__(self, table_name: str) -> None:
        super().__init__(table_name, "import job", PREFIX)

    def _load(self, data: dict[str, Any]) -> ImportJob:
        return ImportJob.model_validate(data)

    def create(self, owner: str, job: ImportJob) -> None:
        self._put_new(owner, job.id, job.model_dump(mode="json", exclude_none=True))

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
            page, token = self._page(owner, 100, token)
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
