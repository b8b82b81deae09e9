"""Training step (RecordFailure): the trainer (or the predictor) or a step failed; the
open job records why."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.config import settings
from sluice.step_logging import step_handler
from sluice.training import steps
from sluice.training.repository import PredictionJobRepository, TrainingJobRepository

EVENT_MODEL = steps.FailureInput


@step_handler(steps.step_run)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = EVENT_MODEL.model_validate(event)
    table = settings().table
    if parsed.kind == "prediction":
        steps.record_prediction_failure(PredictionJobRepository(table), parsed.job, parsed.error)
    else:
        steps.record_failure(TrainingJobRepository(table), parsed.job, parsed.error)
    return {}
