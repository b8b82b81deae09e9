"""Task step (one per part, in a Map): aggregate a part into hash-partitioned buckets."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.config import settings
from sluice.step_logging import run_at, step_handler
from sluice.tasks import steps
from sluice.tasks.models import RUN_PREFIX
from sluice.tasks.repository import TaskRepository

EVENT_MODEL = steps.PartialInput


@step_handler(run_at("task", "id", prefix=RUN_PREFIX))
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    repo = TaskRepository(settings().table)
    return steps.partial(repo, EVENT_MODEL.model_validate(event)).model_dump()
