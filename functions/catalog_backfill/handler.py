"""A Glue table for every ready dataset that has none (maintenance: after an upgrade)."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.config import settings
from sluice.datasets.query_table_backfill import BackfillRequest, backfill
from sluice.datasets.repository import DatasetRepository

EVENT_MODEL = BackfillRequest

logger = Logger(service="sluice")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    EVENT_MODEL.model_validate(event)
    return backfill(DatasetRepository(settings().table)).model_dump()
