"""Task step (in the Partials Distributed Map): aggregate a batch of parts (the
ItemBatcher's ``{"Items", "BatchInput"}``), each part, or a few small ones together,
into hash-partitioned buckets."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.config import settings
from sluice.step_logging import run_at, step_handler
from sluice.tasks import steps_partial
from sluice.tasks.models import RUN_PREFIX
from sluice.tasks.repository import TaskRepository
from sluice.tasks.step_models import PartialBatch

EVENT_MODEL = PartialBatch


@step_handler(run_at("BatchInput", "task", "id", prefix=RUN_PREFIX))
def handler(event: dict[str, Any], context: LambdaContext) -> list[dict[str, Any]]:
    repo = TaskRepository(settings().table)
    batch = EVENT_MODEL.model_validate(event)
    return [result.model_dump() for result in steps_partial.partial_batch(repo, batch)]
