"""S3 ObjectCreated under imports/ -> start the import of the job the file was issued for."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.config import settings
from sluice.networks import import_jobs
from sluice.networks.import_models import ModelUploadNotification
from sluice.networks.import_repository import ImportJobRepository

EVENT_MODEL = ModelUploadNotification

logger = Logger(service="sluice")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    cfg = settings()
    notification = EVENT_MODEL.model_validate(event)
    return {"started": import_jobs.on_upload(cfg, ImportJobRepository(cfg.table), notification)}
