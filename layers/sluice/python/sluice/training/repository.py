"""Training and prediction jobs in the records table, under their owner."""

from __future__ import annotations

import builtins
from typing import Any

from sluice.store.owned_records import OwnedRecords
from sluice.training.models import TrainingChanges, TrainingJob, TrainingStatus
from sluice.training.prediction_models import PredictionChanges, PredictionJob

PREFIX = "TRAINING#"
PREDICTION_PREFIX = "PREDICTION#"


class TrainingJobRepository(OwnedRecords[TrainingJob]):
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

    def update(
        self,
        owner: str,
        job_id: str,
        changes: TrainingChanges,
        *,
        only_if_status: TrainingStatus | None = None,
    ) -> TrainingJob | None:
        """Apply ``changes``; None when the job is gone or ``only_if_status`` fails."""
        return self._update(
            owner,
            job_id,
            changes.written(),
            only_if=("status", only_if_status.value) if only_if_status else None,
        )


class PredictionJobRepository(OwnedRecords[PredictionJob]):
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

    def update(
        self,
        owner: str,
        job_id: str,
        changes: PredictionChanges,
        *,
        only_if_status: TrainingStatus | None = None,
    ) -> PredictionJob | None:
        """Apply ``changes``; None when the job is gone or ``only_if_status`` fails."""
        return self._update(
            owner,
            job_id,
            changes.written(),
            only_if=("status", only_if_status.value) if only_if_status else None,
        )
