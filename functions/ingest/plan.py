"""Ingest step: read the header, split the object into chunk ranges."""

from typing import Any

from sluice.config import settings
from sluice.datasets.repository import DatasetRepository
from sluice.ingest import scan_steps as ingest
from sluice.ingest.models import IngestInput


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    cfg = settings()
    plan = ingest.plan(cfg, DatasetRepository(cfg.table), IngestInput.model_validate(event))
    return plan.model_dump(mode="json")
