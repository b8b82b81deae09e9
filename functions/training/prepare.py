"""Training step: run the trainer only for a job still queued whose dataset is ready (a
job on an upload waits for the ingest), and say where it runs."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.config import settings
from sluice.datasets.repository import DatasetRepository
from sluice.step_logging import run_at, step_handler
from sluice.training import steps
from sluice.training.models import RUN_PREFIX
from sluice.training.repository import TrainingJobRepository

EVENT_MODEL = steps.StepInput


@step_handler(run_at("job", "id", prefix=RUN_PREFIX))
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    ref = EVENT_MODEL.model_validate(event).job
    table = settings().table
    prepared = steps.prepare(TrainingJobRepository(table), DatasetRepository(table), ref)
    return prepared.model_dump(mode="json")
