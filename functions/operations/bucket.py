"""Operation step (one per bucket, in a Map): merge one bucket of the shuffle."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.config import settings
from sluice.sessions import steps
from sluice.sessions.operation_models import RUN_PREFIX
from sluice.sessions.repository import OperationRepository
from sluice.step_logging import run_at, step_handler

EVENT_MODEL = steps.BucketInput


@step_handler(run_at("operation", "id", prefix=RUN_PREFIX))
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    repo = OperationRepository(settings().table)
    return steps.bucket(repo, EVENT_MODEL.model_validate(event)).model_dump(mode="json")
