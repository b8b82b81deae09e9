"""Ingest step: record the dataset as ready, or as failed with the reason."""

from typing import Any

from sluice.config import settings
from sluice.datasets.repository import DatasetRepository
from sluice.ingest import convert_step
from sluice.ingest.models import FailInput, FinishInput


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    repo = DatasetRepository(settings().table)
    if "error" in event:
        return convert_step.fail(repo, FailInput.model_validate(event))
    return convert_step.finish(repo, FinishInput.model_validate(event))
