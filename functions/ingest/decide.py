"""Ingest step: merge the chunks' statistics and decide the schema."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.config import settings
from sluice.datasets.repository import DatasetRepository
from sluice.ingest import decide_step
from sluice.ingest.models import DecideInput
from sluice.step_logging import run_at, step_handler

EVENT_MODEL = DecideInput


@step_handler(run_at("dataset", "run"))
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    repo = DatasetRepository(settings().table)
    return decide_step.decide(repo, EVENT_MODEL.model_validate(event)).model_dump(mode="json")
