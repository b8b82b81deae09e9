"""Training step: run the trainer only for a job still queued whose dataset is ready (a
job on an upload waits for the ingest), and say where it runs; for a prediction job
(``kind`` "prediction", predict_dataset's), the predictor if the job is still queued."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.config import settings
from sluice.datasets.repository import DatasetRepository
from sluice.step_logging import step_handler
from sluice.training import steps
from sluice.training.repository import PredictionJobRepository, TrainingJobRepository

EVENT_MODEL = steps.StepInput


@step_handler(steps.step_run)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parsed = EVENT_MODEL.model_validate(event)
    table = settings().table
    if parsed.kind == "prediction":
        prepared = steps.prepare_prediction(PredictionJobRepository(table), parsed.job)
    else:
        prepared = steps.prepare(TrainingJobRepository(table), DatasetRepository(table), parsed.job)
    return prepared.model_dump(mode="json")
