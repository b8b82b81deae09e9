"""The train_model state machine's Lambda steps around the trainer's task: Prepare (is
the job still queued, where does the task run), Record (it succeeded) and RecordFailure
(it failed: the trainer's own message, or the task's exit code and stop reason).
predict_dataset's run the same functions on a prediction job (``kind`` "prediction")."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from sluice.catalog import PREDICTOR, TRAINER
from sluice.config import settings
from sluice.datasets.models import DatasetStatus, ErrorInfo, utcnow
from sluice.datasets.repository import DatasetRepository
from sluice.errors import SluiceError
from sluice.networks.graph_models import GraphBody
from sluice.step_errors import step_failure
from sluice.step_logging import run_at
from sluice.store import objects
from sluice.task_placement import placement, stopped_task
from sluice.training.models import (
    OPEN_STATUSES,
    RUN_PREFIX,
    TrainingChanges,
    TrainingJob,
    TrainingStatus,
)
from sluice.training.prediction_models import RUN_PREFIX as PREDICT_PREFIX
from sluice.training.prediction_models import PredictionChanges
from sluice.training.repository import PredictionJobRepository, TrainingJobRepository
from sluice.training.service import check_training, graph_key


class JobRef(BaseModel):
    owner: str
    id: str


class StepInput(BaseModel):
    job: JobRef
    kind: Literal["training", "prediction"] = Field(
        "training", description="Which state machine: train_model's or predict_dataset's."
    )


class CaughtError(BaseModel):
    Error: str = "States.TaskFailed"
    Cause: str | None = None


class FailureInput(StepInput):
    error: CaughtError


class Prepared(BaseModel):
    """Whether to run the trainer (or to wait for the job's uploaded dataset), and where
    (``ecs:runTask.sync``'s parameters)."""

    go: bool
    wait: bool = False
    cluster: str = ""
    task_definition: str = ""
    subnets: list[str] = []
    security_groups: list[str] = []
    container: str = ""


def step_run(event: dict[str, Any]) -> str | None:
    """The execution's name of a step's event, for its log lines: ``train-<id>``, or
    ``predict-<id>`` for a prediction job (as ``step_logging.run_at`` reads it)."""
    prefix = PREDICT_PREFIX if event.get("kind") == "prediction" else RUN_PREFIX
    return run_at("job", "id", prefix=prefix)(event)


def _dataset_ready(
    repo: TrainingJobRepository, datasets: DatasetRepository, job: TrainingJob
) -> bool | None:
    """For a job waiting for its uploaded dataset: True once the dataset is ready and the
    columns fit (its data run recorded on the job), None while it is ingested, False when
    it failed (the job failed with the ingest's reason, or the columns' problems)."""
    dataset = datasets.find(job.owner, job.dataset_id)
    if dataset is None:
        _fail(repo, job, "dataset_gone", f"dataset {job.dataset_id} was deleted")
        return False
    if dataset.status is DatasetStatus.READY and dataset.data_run:
        graph = GraphBody.model_validate(
            objects.get_json(settings().data_bucket, graph_key(job.owner, job.id))
        )
        try:
            check_training(graph, job.params, dataset)
        except SluiceError as exc:
            _fail(repo, job, exc.code, exc.message)
            return False
        repo.update(
            job.owner,
            job.id,
            TrainingChanges(data_run=dataset.data_run),
            only_if_status=TrainingStatus.QUEUED,
        )
        return True
    if dataset.status in (DatasetStatus.FAILED, DatasetStatus.STOPPED, DatasetStatus.DUPLICATE):
        reason = dataset.error.message if dataset.error else f"it is {dataset.status.value}"
        _fail(repo, job, "ingest_failed", f"the uploaded file could not be ingested: {reason}")
        return False
    return None


def _fail(repo: TrainingJobRepository, job: TrainingJob, code: str, message: str) -> None:
    repo.update(
        job.owner,
        job.id,
        TrainingChanges(
            status=TrainingStatus.FAILED,
            finished_at=utcnow(),
            error=ErrorInfo(code=code, message=message),
        ),
        only_if_status=TrainingStatus.QUEUED,
    )


def prepare(repo: TrainingJobRepository, datasets: DatasetRepository, ref: JobRef) -> Prepared:
    """Run the trainer only for a job still queued (a cancel or delete may come first)
    whose dataset is ready: a job on an upload waits for the ingest."""
    job = repo.find(ref.owner, ref.id)
    if job is None or job.status is not TrainingStatus.QUEUED:
        return Prepared(go=False)
    if job.data_run is None:
        ready = _dataset_ready(repo, datasets, job)
        if ready is None:
            return Prepared(go=False, wait=True)
        if not ready:
            return Prepared(go=False)
    return _run_task("SLUICE_TRAINER_TASK_DEFINITION", TRAINER)


def _run_task(definition_variable: str, container_task: str) -> Prepared:
    """Go: run the task definition named in ``definition_variable`` (the trainer's or the
    predictor's), in the tasks' cluster and network."""
    return Prepared(go=True, **placement(definition_variable, container_task).model_dump())


def _succeeded(
    repo: TrainingJobRepository | PredictionJobRepository,
    ref: JobRef,
    changes: type[TrainingChanges] | type[PredictionChanges],
) -> None:
    """The task exited 0: the running job succeeded (a cancelled one stays cancelled)."""
    job = repo.find(ref.owner, ref.id)
    if job is None or job.status is not TrainingStatus.RUNNING:
        return
    now = utcnow()
    timings = job.timings.model_copy(update={"total_s": (now - job.created_at).total_seconds()})
    repo.update(
        ref.owner,
        ref.id,
        changes(status=TrainingStatus.SUCCEEDED, progress=1.0, finished_at=now, timings=timings),
        only_if_status=TrainingStatus.RUNNING,
    )


def _failed(
    repo: TrainingJobRepository | PredictionJobRepository,
    ref: JobRef,
    changes: type[TrainingChanges] | type[PredictionChanges],
    fallback: ErrorInfo,
) -> None:
    """Mark an open job failed: with the error its task wrote before it exited, else
    with ``fallback`` (what the task's end says)."""
    job = repo.find(ref.owner, ref.id)
    if job is None or job.status not in OPEN_STATUSES:
        return  # cancelled or deleted: nothing to record
    repo.update(
        ref.owner,
        ref.id,
        changes(status=TrainingStatus.FAILED, finished_at=utcnow(), error=job.error or fallback),
        only_if_status=job.status,
    )


def record(repo: TrainingJobRepository, ref: JobRef) -> None:
    """The trainer exited 0: the running job succeeded (a cancelled one stays cancelled)."""
    _succeeded(repo, ref, TrainingChanges)


def task_failure(error: CaughtError) -> str:
    """The failure in words: a stopped task's exit code, its container's reason and the
    task's stop reason (the cause of a failed ``ecs:runTask.sync`` is the task as JSON),
    or a Lambda step's own message."""
    ended = stopped_task(error.Cause, "the trainer")
    return ended if ended is not None else step_failure(error.Error, error.Cause).message


def record_failure(repo: TrainingJobRepository, ref: JobRef, error: CaughtError) -> None:
    """Mark an open job failed: with the error the trainer wrote before it exited, else
    with what the task's end says."""
    fallback = ErrorInfo(code="training_failed", message=task_failure(error))
    _failed(repo, ref, TrainingChanges, fallback)


def prepare_prediction(predictions: PredictionJobRepository, ref: JobRef) -> Prepared:
    """Run the predictor only for a prediction job still queued (a cancel may come first)."""
    job = predictions.find(ref.owner, ref.id)
    if job is None or job.status is not TrainingStatus.QUEUED:
        return Prepared(go=False)
    return _run_task("SLUICE_PREDICTOR_TASK_DEFINITION", PREDICTOR)


def record_prediction(predictions: PredictionJobRepository, ref: JobRef) -> None:
    """The predictor exited 0: the running job succeeded (its dataset is recorded)."""
    _succeeded(predictions, ref, PredictionChanges)


def record_prediction_failure(
    predictions: PredictionJobRepository, ref: JobRef, error: CaughtError
) -> None:
    """Mark an open prediction job failed, with the predictor's message if it wrote one."""
    message = task_failure(error).replace("the trainer exited", "the predictor exited")
    _failed(
        predictions, ref, PredictionChanges, ErrorInfo(code="prediction_failed", message=message)
    )
