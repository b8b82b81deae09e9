"""Training step (Record): the trainer's task exited 0; the running job succeeded."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.config import settings
from sluice.step_logging import run_at, step_handler
from sluice.training import steps
from sluice.training.models import RUN_PREFIX
from sluice.training.repository import TrainingJobRepository

EVENT_MODEL = steps.StepInput


@step_handler(run_at("job", "id", prefix=RUN_PREFIX))
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    ref = EVENT_MODEL.model_validate(event).job
    steps.record(TrainingJobRepository(settings().table), ref)
    return {}
