"""Training and prediction jobs in the records table, under their owner."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from sluice.datasets.models import utcnow
from sluice.store.changes import RecordChanges
from sluice.store.owned_records import OwnedRecords
from sluice.training.models import TrainingJob, TrainingStatus
from sluice.training.prediction_models import PredictionJob

PREFIX = "TRAINING#"
PREDICTION_PREFIX = "PREDICTION#"


Job = TypeVar("Job")


class JobRepository(OwnedRecords[Job]):
    """Jobs with a status (training or prediction): their changes hold only while the
    job is in the status the writer expects."""

    def update(
        self,
        owner: str,
        job_id: str,
        changes: RecordChanges,
        *,
        only_if_status: TrainingStatus | frozenset[TrainingStatus] | None = None,
    ) -> Job | None:
        """Apply ``changes``; None when the job is gone or its status is not ``only_if_status`` (or
        one of them)."""
        return self._update(
            owner,
            job_id,
            changes.written(),
            only_if=self._status_is(only_if_status),
        )

    def start(
        self,
        owner: str,
        job_id: str,
        changes: Callable[..., RecordChanges],
        timings: Callable[..., BaseModel],
    ) -> Job | None:
        """Mark the queued job running, with how long it waited; None when it was
        cancelled or deleted before its task started."""
        job: Any = self.get(owner, job_id)
        started = utcnow()
        queued = timings(queued_s=round((started - job.created_at).total_seconds(), 3))
        return self.update(
            owner,
            job_id,
            changes(
                status=TrainingStatus.RUNNING, started_at=started, progress=0.01, timings=queued
            ),
            only_if_status=TrainingStatus.QUEUED,
        )


class TrainingJobRepository(JobRepository[TrainingJob]):
    """Training jobs, always addressed through their owner."""

    def __init__(self, table_name: str) -> None:
        super().__init__(table_name, "training job", PREFIX)

    def _load(self, data: dict[str, Any]) -> TrainingJob:
        return TrainingJob.model_validate(data)

    def create(self, job: TrainingJob) -> None:
        data = job.model_dump(mode="json")
        data["data_run"] = job.data_run
        self._put_new(job.owner, job.id, data)

    def list(
        self,
        owner: str,
        limit: int,
        next_token: str | None,
        graph_id: str | None = None,
        status: TrainingStatus | None = None,
    ) -> tuple[builtins.list[TrainingJob], str | None]:
        """A page of the owner's jobs, of one graph or in one status if asked."""
        wanted = status.value if status else None
        return self._page_where(owner, limit, next_token, graph_id=graph_id or None, status=wanted)


class PredictionJobRepository(JobRepository[PredictionJob]):
    """Prediction jobs (a trained model over a dataset), under their owner."""

    def __init__(self, table_name: str) -> None:
        super().__init__(table_name, "prediction job", PREDICTION_PREFIX)

    def _load(self, data: dict[str, Any]) -> PredictionJob:
        return PredictionJob.model_validate(data)

    def create(self, job: PredictionJob) -> None:
        data = job.model_dump(mode="json")
        data["data_run"] = job.data_run
        self._put_new(job.owner, job.id, data)

    def list(
        self, owner: str, limit: int, next_token: str | None, training_job_id: str | None = None
    ) -> tuple[builtins.list[PredictionJob], str | None]:
        """A page of the owner's prediction jobs, of one training job if asked."""
        return self._page_where(owner, limit, next_token, training_job_id=training_job_id)
