"""Ingest step: merge the chunks' statistics and decide the schema."""

from typing import Any

from sluice.config import settings
from sluice.datasets.repository import DatasetRepository
from sluice.ingest import decide_step as schema_step
from sluice.ingest.models import DecideInput


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    repo = DatasetRepository(settings().table)
    return schema_step.decide(repo, DecideInput.model_validate(event)).model_dump(mode="json")
