"""Task step (one per bucket, in a Map): merge a bucket's partials, write its files."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.config import settings
from sluice.step_logging import run_at, step_handler
from sluice.tasks import steps
from sluice.tasks.models import RUN_PREFIX
from sluice.tasks.repository import TaskRepository

EVENT_MODEL = steps.ReduceInput


@step_handler(run_at("task", "id", prefix=RUN_PREFIX))
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    repo = TaskRepository(settings().table)
    return steps.reduce(repo, EVENT_MODEL.model_validate(event)).model_dump()
