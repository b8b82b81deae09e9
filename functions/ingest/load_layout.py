"""Ingest step (re-convert): load what an earlier run's scans learned."""

from typing import Any

from sluice.ingest import decide_step as schema_step
from sluice.ingest.models import DatasetRef


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ref = DatasetRef.model_validate(event["dataset"])
    return schema_step.load_layout(ref, event["stats_run"]).model_dump(mode="json")
