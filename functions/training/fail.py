"""Training step (RecordFailure): the trainer or a step failed; the open job records why."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.config import settings
from sluice.step_logging import run_at, step_handler
from sluice.training import steps
from sluice.training.models import RUN_PREFIX
from sluice.training.repository import TrainingJobRepository

EVENT_MODEL = steps.FailureInput


@step_handler(run_at("job", "id", prefix=RUN_PREFIX))
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = EVENT_MODEL.model_validate(event)
    steps.record_failure(TrainingJobRepository(settings().table), parsed.job, parsed.error)
    return {}
