"""Ingest step (one per chunk, in a Map): convert a chunk to typed Parquet."""

from typing import Any

from sluice.config import settings
from sluice.datasets.repository import DatasetRepository
from sluice.ingest import convert_step
from sluice.ingest.models import ConvertInput


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    repo = DatasetRepository(settings().table)
    return convert_step.convert_chunk(repo, ConvertInput.model_validate(event)).model_dump()
