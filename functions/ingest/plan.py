"""Ingest step: read the header, split the object into chunk ranges."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.config import settings
from sluice.datasets.repository import DatasetRepository
from sluice.ingest import scan_steps
from sluice.ingest.models import IngestInput
from sluice.step_logging import run_at, step_handler

EVENT_MODEL = IngestInput


@step_handler(run_at("dataset", "run"))
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    cfg = settings()
    repo = DatasetRepository(cfg.table)
    return scan_steps.plan(cfg, repo, EVENT_MODEL.model_validate(event)).model_dump(mode="json")
