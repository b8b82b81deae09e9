"""Operation step: mark the operation in progress, list the parts it reads and its buckets;
or, as Settle, turn the parts' surveys into what each part step reads."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.config import settings
from sluice.sessions import steps
from sluice.sessions.operation_models import RUN_PREFIX
from sluice.sessions.repository import OperationRepository
from sluice.sessions.step_models import PlanInput
from sluice.step_logging import run_at, step_handler

EVENT_MODEL = PlanInput


@step_handler(run_at("operation", "id", prefix=RUN_PREFIX))
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    repo = OperationRepository(settings().table)
    payload = EVENT_MODEL.model_validate(event)
    if payload.phase == "settle":
        steps.settle(repo, payload.operation)
        return {}
    return steps.plan(repo, payload.operation).model_dump(mode="json")
