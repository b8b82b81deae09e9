"""Ingest step (one per chunk, in a Map): convert a chunk to typed Parquet."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.config import settings
from sluice.datasets.repository import DatasetRepository
from sluice.ingest import convert_step
from sluice.ingest.models import ConvertInput
from sluice.step_logging import run_at, step_handler

EVENT_MODEL = ConvertInput


@step_handler(run_at("dataset", "run"))
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    repo = DatasetRepository(settings().table)
    return convert_step.convert_chunk(repo, EVENT_MODEL.model_validate(event)).model_dump()
