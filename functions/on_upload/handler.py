"""S3 ObjectCreated on the uploads bucket -> start the dataset's ingest execution."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.config import settings
from sluice.datasets.repository import DatasetRepository
from sluice.ingest import runs
from sluice.ingest.models import UploadNotification

EVENT_MODEL = UploadNotification

logger = Logger(service="sluice")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    cfg = settings()
    notification = EVENT_MODEL.model_validate(event)
    return {"started": runs.on_upload(cfg, DatasetRepository(cfg.table), notification)}
