"""Ingest step (re-convert): load what an earlier run's scans learned."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.ingest import decide_step
from sluice.ingest.models import LoadLayoutInput
from sluice.step_logging import run_at, step_handler

EVENT_MODEL = LoadLayoutInput


@step_handler(run_at("dataset", "run"))
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    payload = EVENT_MODEL.model_validate(event)
    return decide_step.load_layout(payload.dataset, payload.stats_run).model_dump(mode="json")
