"""Ingest step (one per chunk, in a Map): count the records of one byte range."""

from typing import Any

from sluice.config import settings
from sluice.datasets.repository import DatasetRepository
from sluice.ingest import scan_steps as ingest
from sluice.ingest.models import ScanInput


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    repo = DatasetRepository(settings().table)
    return ingest.scan_chunk(repo, ScanInput.model_validate(event)).model_dump()
