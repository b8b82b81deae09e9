"""The trainer's writes to its job's record: at most one a second, from a thread of its
own, so that training never waits on DynamoDB and a job of many short epochs does not
write thousands of times. Each write holds only while the job is ``running``: a write
that finds it cancelled (or deleted) tells the trainer to stop."""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

from sluice.store.changes import RecordChanges
from sluice.training.models import TrainingChanges, TrainingStatus

MIN_INTERVAL_S = 1.0


class JobRecords(Protocol):
    """A repository of jobs with a status (training or prediction jobs)."""

    def update(
        self,
        owner: str,
        job_id: str,
        changes: Any,
        *,
        only_if_status: TrainingStatus | None = None,
    ) -> object | None: ...


class Reporter:
    """Collects the job's changing fields and writes the latest of them, throttled."""

    def __init__(
        self,
        repo: JobRecords,
        owner: str,
        job_id: str,
        min_interval_s: float = MIN_INTERVAL_S,
        changes: type[RecordChanges] = TrainingChanges,
    ) -> None:
        self._repo, self._owner, self._job_id = repo, owner, job_id
        self._changes = changes
        self._interval = min_interval_s
        self._pending: dict[str, Any] = {}
        self._wake = threading.Condition()
        self._closed = False
        self._last = 0.0
        self.writes = 0
        self.stopped = threading.Event()
        """Set once a write found the job no longer running (cancelled or deleted)."""
        self._thread = threading.Thread(target=self._run, name="reporter", daemon=True)
        self._thread.start()

    def set(self, **fields: Any) -> None:
        """Fields to write (the newest value of each wins) at the next write."""
        with self._wake:
            self._pending.update(fields)
            self._wake.notify()

    def _take(self) -> dict[str, Any] | None:
        with self._wake:
            while not self._closed:
                wait = self._last + self._interval - time.monotonic()
                if self._pending and wait <= 0:
                    break
                self._wake.wait(wait if self._pending else None)
            if self._closed:
                return None
            pending, self._pending = self._pending, {}
            self._last = time.monotonic()
            return pending

    def _run(self) -> None:
        while (pending := self._take()) is not None:
            self._write(pending, TrainingStatus.RUNNING)

    def _write(self, fields: dict[str, Any], status: TrainingStatus) -> bool:
        written = self._repo.update(
            self._owner, self._job_id, self._changes(**fields), only_if_status=status
        )
        self.writes += 1
        if written is None:
            self.stopped.set()
        return written is not None

    def close(self, status: TrainingStatus = TrainingStatus.RUNNING, **fields: Any) -> bool:
        """Stop the thread and write what is pending with ``fields``, while the job is
        ``status`` (``cancelled``: the history a stopped trainer finished). Whether it held."""
        with self._wake:
            self._closed = True
            self._wake.notify()
            pending, self._pending = {**self._pending, **fields}, {}
        self._thread.join()
        return self._write(pending, status) if pending else True
