"""Operation step (in the Buckets Distributed Map): merge a batch of the shuffle's buckets
(the ItemBatcher's ``{"Items", "BatchInput"}``)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.config import settings
from sluice.sessions import steps
from sluice.sessions.operation_models import RUN_PREFIX
from sluice.sessions.repository import OperationRepository
from sluice.sessions.step_models import BucketBatch
from sluice.step_logging import run_at, step_handler

EVENT_MODEL = BucketBatch


@step_handler(run_at("BatchInput", "operation", "id", prefix=RUN_PREFIX))
def handler(event: dict[str, Any], context: LambdaContext) -> list[dict[str, Any]]:
    repo = OperationRepository(settings().table)
    results = steps.bucket_batch(repo, EVENT_MODEL.model_validate(event))
    return [result.model_dump(mode="json") for result in results]
