"""Ingest step (one per chunk, in a Map): count the records of one byte range."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.config import settings
from sluice.datasets.repository import DatasetRepository
from sluice.ingest import scan_steps
from sluice.ingest.models import ScanInput
from sluice.step_logging import run_at, step_handler

EVENT_MODEL = ScanInput


@step_handler(run_at("dataset", "run"))
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    repo = DatasetRepository(settings().table)
    return scan_steps.scan_chunk(repo, EVENT_MODEL.model_validate(event)).model_dump()
