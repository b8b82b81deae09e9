"""Ingest step: record the dataset as ready, or as failed with the reason."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import TypeAdapter
from sluice.config import settings
from sluice.datasets.repository import DatasetRepository
from sluice.ingest import convert_step
from sluice.ingest.models import FailInput, FinishInput
from sluice.step_logging import run_at, step_handler

# Finish's payload after the conversions, RecordFailure's (with the Catch's error) after
# any step failed.
EVENT_MODEL = FinishInput | FailInput
_event: TypeAdapter[FinishInput | FailInput] = TypeAdapter(EVENT_MODEL)


@step_handler(run_at("dataset", "run"))
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    repo = DatasetRepository(settings().table)
    payload = _event.validate_python(event)
    if isinstance(payload, FailInput):
        outcome = convert_step.fail(repo, payload)
    else:
        outcome = convert_step.finish(repo, payload)
    return outcome.model_dump(mode="json", exclude_none=True)
