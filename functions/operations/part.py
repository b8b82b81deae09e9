"""Operation step (in the Survey and Parts Distributed Maps): run the operation on, or
survey, a batch of typed parts (the ItemBatcher's ``{"Items", "BatchInput"}``)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.config import settings
from sluice.sessions import steps
from sluice.sessions.operation_models import RUN_PREFIX
from sluice.sessions.repository import OperationRepository
from sluice.sessions.step_models import PartBatch
from sluice.step_logging import run_at, step_handler

EVENT_MODEL = PartBatch


@step_handler(run_at("BatchInput", "operation", "id", prefix=RUN_PREFIX))
def handler(event: dict[str, Any], context: LambdaContext) -> list[dict[str, Any]]:
    repo = OperationRepository(settings().table)
    results = steps.part_batch(repo, EVENT_MODEL.model_validate(event))
    return [result.model_dump(mode="json") for result in results]
