"""Training jobs: the parameters a user gives (MAID's, with its defaults), and the record
of running them (status, progress, live epoch values, history, evaluation, artifacts)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sluice.datasets.models import ErrorInfo, UploadTicket
from sluice.store.changes import RecordChanges

_COLUMN = Field(min_length=1, max_length=1024)


class TrainingStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


OPEN_STATUSES = frozenset({TrainingStatus.QUEUED, TrainingStatus.RUNNING})


STORED_MIN = 1e-100
"""The smallest parameter kept as it is; a smaller one is 0 (DynamoDB holds no 1e-200)."""


class TrainingParams(BaseModel):
    """How to train: MAID's parameters and defaults, plus gradient clipping and a seed."""

    model_config = ConfigDict(extra="forbid")

    x_columns: list[str] | dict[str, list[str]] = Field(
        description="The input columns, in order; for a graph with several inputs, a map "
        "of input node id to its columns.",
    )
    y_column: str = _COLUMN
    optimizer: str = Field("adam", max_length=64)
    loss: str = Field("mse", max_length=64)
    metrics: list[str] = Field(default_factory=list, max_length=16)
    epochs: int = Field(100, ge=1, le=10_000)
    batch_size: int = Field(25, ge=1, le=65_536)
    validation_split: float = Field(0.1, ge=0.0, lt=1.0)
    test_split: float = Field(0.1, ge=0.0, lt=1.0)
    y_one_hot: bool = False
    learning_rate: float | None = Field(None, ge=1e-12, le=10.0)
    shuffle: bool = True
    validation_batch_size: int | None = Field(None, ge=1, le=65_536)
    clipnorm: float | None = Field(None, ge=1e-12, le=1e12)
    clipvalue: float | None = Field(None, ge=1e-12, le=1e12)
    early_stopping: bool = True
    es_monitor: str = Field("val_loss", max_length=64)
    es_mode: Literal["auto", "min", "max"] = "auto"
    es_patience: int = Field(5, ge=0, le=10_000)
    es_min_delta: float = Field(0.0, ge=0.0, le=1e12)
    es_restore_best_weights: bool = True
    reduce_lr: bool = True
    rl_monitor: str = Field("val_loss", max_length=64)
    rl_factor: float = Field(0.1, ge=1e-12, lt=1.0)
    rl_patience: int = Field(3, ge=0, le=10_000)
    rl_min_lr: float = Field(1e-6, ge=0.0, le=10.0)
    save_best_model: bool = True
    save_training_logs: bool = True
    seed: int = Field(42, ge=0, le=2**31 - 1, description="Shuffles and splits with it.")
    datetime_features: Literal["seconds", "calendar"] = Field(
        "seconds",
        description=(
            "How a datetime input is fed: its seconds since the epoch (one value), or "
            "calendar: those seconds and the sine and cosine of its place in the year, the "
            "week and the day (seven values)."
        ),
    )

    @field_validator("validation_split", "test_split", "es_min_delta", "rl_min_lr")
    @classmethod
    def _storable(cls, value: float) -> float:
        # Below 1e-100 a number is no DynamoDB number (its decimals span 1e-130..1e126),
        # and for training it is 0; the bounds above keep the others within that span.
        return 0.0 if value < STORED_MIN else value

    @model_validator(mode="after")
    def _splits_leave_training_rows(self) -> TrainingParams:
        if self.validation_split + self.test_split >= 1.0:
            raise ValueError("validation_split + test_split must be below 1")
        return self

    def inputs(self, input_nodes: list[str]) -> dict[str, list[str]]:
        """The columns of each input node: a plain list feeds the one input."""
        if isinstance(self.x_columns, dict):
            return self.x_columns
        return {input_nodes[0]: self.x_columns} if input_nodes else {}


class TrainUpload(BaseModel):
    """A CSV to upload for the job: it becomes a dataset through the normal ingest."""

    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=255)
    bytes: int = Field(gt=0, description="The file's size; the presigned POST allows it.")


class TrainCreate(TrainingParams):
    """Train a stored graph on a ready dataset (``dataset_id``), or on a CSV uploaded
    through the presigned POST the answer holds (``upload``): the job then starts by
    itself once that dataset is ready."""

    # The schema says what _dataset_or_upload checks: exactly one of them.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {"required": ["dataset_id"], "properties": {"upload": {"type": "null"}}},
                {"required": ["upload"], "properties": {"dataset_id": {"type": "null"}}},
            ]
        },
    )

    dataset_id: str | None = Field(None, pattern=r"^[0-9a-f]{32}$")
    upload: TrainUpload | None = None

    @model_validator(mode="after")
    def _dataset_or_upload(self) -> TrainCreate:
        if (self.dataset_id is None) == (self.upload is None):
            raise ValueError("give dataset_id or upload (one of them)")
        return self


class Artifacts(BaseModel):
    """What the trainer wrote: names of the files, their keys kept out of answers."""

    final: str | None = None
    best: str | None = None
    log: str | None = None
    preprocessing: str | None = None


class Timings(BaseModel):
    """Seconds spent in each phase, once known."""

    queued_s: float | None = Field(None, description="From the request to the trainer's start.")
    import_s: float | None = Field(None, description="TensorFlow's import in the trainer.")
    data_s: float | None = Field(None, description="Reading the split's statistics.")
    first_epoch_s: float | None = Field(None, description="From the request to epoch 1's end.")
    train_s: float | None = None
    total_s: float | None = None
    samples_per_s: float | None = Field(None, description="Training throughput over the epochs.")
    peak_rss_mb: float | None = Field(None, description="The trainer's peak resident memory.")


class TrainingJob(BaseModel):
    id: str
    owner: str = Field(exclude=True)
    graph_id: str
    dataset_id: str
    params: TrainingParams
    status: TrainingStatus = TrainingStatus.QUEUED
    progress: float = Field(0.0, ge=0.0, le=1.0)
    epoch: dict[str, Any] | None = Field(None, description="The last epoch's values, live.")
    history: dict[str, list[float | None]] = Field(default_factory=dict)
    evaluation: dict[str, float | None] | None = None
    rows: dict[str, int] | None = Field(None, description="Rows in each split.")
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    timings: Timings = Field(default_factory=Timings)
    error: ErrorInfo | None = None
    artifacts: Artifacts = Field(default_factory=Artifacts)
    run: str | None = None
    data_run: str | None = Field(None, exclude=True)


class TrainingStarted(TrainingJob):
    """A job just queued; with ``upload``, the presigned POST of its CSV."""

    upload: UploadTicket | None = None


class TrainingPage(BaseModel):
    items: list[TrainingJob]
    next_token: str | None = None


class TrainingChanges(RecordChanges):
    """Fields of a stored job to overwrite (TrainingJobRepository.update)."""

    status: TrainingStatus | None = None
    progress: float | None = None
    epoch: dict[str, Any] | None = None
    history: dict[str, list[float | None]] | None = None
    evaluation: dict[str, float | None] | None = None
    rows: dict[str, int] | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    timings: Timings | None = None
    error: ErrorInfo | None = None
    artifacts: Artifacts | None = None
    data_run: str | None = None


class ArtifactType(StrEnum):
    FINAL = "final"
    BEST = "best"
    LOG = "log"


class ArtifactLink(BaseModel):
    type: ArtifactType
    url: str
    expires_in: int


RUN_PREFIX = "train-"


def run_name(job_id: str) -> str:
    """The name of the job's execution of statemachines/train_model.asl.json."""
    return f"{RUN_PREFIX}{job_id}"


def job_prefix(owner: str, job_id: str) -> str:
    """Where the job's files live in the data bucket."""
    return f"training/{owner}/{job_id}/"
