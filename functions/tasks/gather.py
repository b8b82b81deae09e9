"""Task step: read every part's buckets index once and write the reducers' item list
(each bucket's byte range in every part)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.step_logging import run_at, step_handler
from sluice.tasks import steps_reduce
from sluice.tasks.models import RUN_PREFIX
from sluice.tasks.step_models import GatherInput

EVENT_MODEL = GatherInput


@step_handler(run_at("plan", "task", "id", prefix=RUN_PREFIX))
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return steps_reduce.gather(EVENT_MODEL.model_validate(event)).model_dump(mode="json")
