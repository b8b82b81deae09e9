"""Training step (Record): the trainer's task exited 0; the running job succeeded (or the
predictor's, for a prediction job)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.config import settings
from sluice.step_logging import step_handler
from sluice.training import steps
from sluice.training.repository import PredictionJobRepository, TrainingJobRepository

EVENT_MODEL = steps.StepInput


@step_handler(steps.step_run)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = EVENT_MODEL.model_validate(event)
    table = settings().table
    if parsed.kind == "prediction":
        steps.record_prediction(PredictionJobRepository(table), parsed.job)
    else:
        steps.record(TrainingJobRepository(table), parsed.job)
    return {}
