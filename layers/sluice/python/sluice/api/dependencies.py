"""What the routes share: the ids in their paths and the repositories they read."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from sluice.config import settings
from sluice.datasets.repository import DatasetRepository
from sluice.networks.repository import GraphRepository
from sluice.tasks.repository import TaskRepository
from sluice.training.repository import PredictionJobRepository, TrainingJobRepository

_RECORD_ID = r"^[0-9a-f]{32}$"

DatasetId = Annotated[str, Path(pattern=_RECORD_ID, description="The dataset's id.")]
TaskId = Annotated[str, Path(pattern=_RECORD_ID, description="The task's id.")]
GraphId = Annotated[str, Path(pattern=_RECORD_ID, description="The graph's id.")]
TrainingJobId = Annotated[str, Path(pattern=_RECORD_ID, description="The training job's id.")]
PredictionJobId = Annotated[str, Path(pattern=_RECORD_ID, description="The prediction job's id.")]


def dataset_repository() -> DatasetRepository:
    """Datasets in the configured records table."""
    return DatasetRepository(settings().table)


def task_repository() -> TaskRepository:
    """Tasks in the configured records table."""
    return TaskRepository(settings().table)


def graph_repository() -> GraphRepository:
    """Network graphs in the configured records table."""
    return GraphRepository(settings().table)


def training_repository() -> TrainingJobRepository:
    """Training jobs in the configured records table."""
    return TrainingJobRepository(settings().table)


def prediction_repository() -> PredictionJobRepository:
    """Prediction jobs (a trained model over a dataset) in the configured records table."""
    return PredictionJobRepository(settings().table)
