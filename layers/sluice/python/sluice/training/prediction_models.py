"""Prediction jobs: a trained job's model applied to a whole dataset, as a job whose
output is a new dataset (issue 20, item 5). The request, the record, where its files go."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from sluice.datasets.models import ErrorInfo
from sluice.store import objects
from sluice.store.changes import RecordChanges
from sluice.training.models import TrainingStatus

PREDICTION = "prediction"
"""The output's column of a model with one output value; with several, ``prediction_<i>``."""
PREDICTED_CLASS = "predicted_class"
"""For a category label: each row's most likely class, by name."""


class SavedPreprocessing(BaseModel):
    """What the trainer saved beside the model (``preprocessing.json``), as predictions
    read it: each input node's columns, the category values (one-hot, or indices for the
    ``indexed`` inputs, which feed an Embedding), a category label's classes."""

    model_config = ConfigDict(extra="ignore")

    inputs: dict[str, list[str]]
    categories: dict[str, list[str]] = Field(default_factory=dict)
    indexed: frozenset[str] = frozenset()
    calendared: frozenset[str] = frozenset()
    classes: list[str] | None = None

    @property
    def columns(self) -> list[str]:
        """Every input column, once, in order."""
        return list(dict.fromkeys(c for columns in self.inputs.values() for c in columns))


def load_preprocessing(bucket: str, key: str) -> SavedPreprocessing:
    """A trained job's ``preprocessing.json``."""
    return SavedPreprocessing.model_validate(objects.get_json(bucket, key))


class PredictDataset(BaseModel):
    """Predict every row of a ready dataset. Its columns must hold the model's x_columns
    (with the types it was trained on); the output dataset has the input's rows in the
    input's order, ``keep_columns`` copied beside the predictions so rows can be joined
    back by key."""

    model_config = ConfigDict(extra="forbid")

    dataset_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    keep_columns: list[str] = Field(
        default_factory=list,
        max_length=64,
        description="Columns of the input to copy into the output (e.g. its key), first.",
    )
    name: str | None = Field(None, min_length=1, max_length=200, description="The output's.")


class PredictionTimings(BaseModel):
    queued_s: float | None = Field(None, description="From the request to the worker's start.")
    import_s: float | None = Field(None, description="TensorFlow's import and the model's load.")
    predict_s: float | None = Field(None, description="Reading, predicting, writing.")
    total_s: float | None = None
    rows_per_s: float | None = None
    peak_rss_mb: float | None = None


class PredictionJob(BaseModel):
    """A run of a trained model over a dataset; ``output_dataset_id`` once it succeeded."""

    id: str
    owner: str = Field(exclude=True)
    training_job_id: str
    dataset_id: str
    keep_columns: list[str] = Field(default_factory=list)
    name: str
    status: TrainingStatus = TrainingStatus.QUEUED
    progress: float = Field(0.0, ge=0.0, le=1.0)
    rows: int | None = Field(None, description="Rows predicted so far.")
    total_rows: int | None = None
    output_dataset_id: str | None = Field(
        None, description="The predictions' dataset (ready once the job succeeded)."
    )
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    timings: PredictionTimings = Field(default_factory=PredictionTimings)
    error: ErrorInfo | None = None
    run: str | None = None
    data_run: str | None = Field(None, exclude=True)


class PredictionPage(BaseModel):
    items: list[PredictionJob]
    next_token: str | None = None


class PredictionChanges(RecordChanges):
    """Fields of a stored prediction job to overwrite."""

    status: TrainingStatus | None = None
    progress: float | None = None
    rows: int | None = None
    total_rows: int | None = None
    output_dataset_id: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    timings: PredictionTimings | None = None
    error: ErrorInfo | None = None


RUN_PREFIX = "predict-"


def run_name(job_id: str) -> str:
    """The name of the job's execution of statemachines/predict_dataset.asl.json."""
    return f"{RUN_PREFIX}{job_id}"
