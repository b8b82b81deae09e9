"""Ingest step: decompress or transcode the upload into UTF-8 CSV text, where it needs it."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.config import settings
from sluice.datasets.repository import DatasetRepository
from sluice.ingest import prepare_step
from sluice.ingest.models import PrepareInput
from sluice.step_logging import run_at, step_handler

EVENT_MODEL = PrepareInput


@step_handler(run_at("dataset", "run"))
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    cfg = settings()
    repo = DatasetRepository(cfg.table)
    payload = EVENT_MODEL.model_validate(event)
    return prepare_step.prepare(cfg, repo, payload).model_dump(mode="json")
