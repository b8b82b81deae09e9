"""Task step: mark the task running, list the dataset's parts and the buckets."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.config import settings
from sluice.step_logging import run_at, step_handler
from sluice.tasks import steps
from sluice.tasks.models import RUN_PREFIX
from sluice.tasks.repository import TaskRepository
from sluice.tasks.step_models import PlanInput

EVENT_MODEL = PlanInput


@step_handler(run_at("task", "id", prefix=RUN_PREFIX))
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    repo = TaskRepository(settings().table)
    ref = EVENT_MODEL.model_validate(event).task
    return steps.plan(repo, ref).model_dump(mode="json")
