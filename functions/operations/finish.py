"""Operation step: record the output (a new dataset, or JSON data), or the failure."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import TypeAdapter
from sluice.config import settings
from sluice.datasets.repository import DatasetRepository
from sluice.sessions import steps
from sluice.sessions.operation_models import RUN_PREFIX
from sluice.sessions.repository import OperationRepository, SessionRepository
from sluice.sessions.step_models import FailInput, FinishInput
from sluice.step_logging import run_at, step_handler

# Finish's payload after the Maps, RecordFailure's (with the Catch's error) after any
# step failed.
EVENT_MODEL = FinishInput | FailInput
_event: TypeAdapter[FinishInput | FailInput] = TypeAdapter(EVENT_MODEL)


@step_handler(run_at("operation", "id", prefix=RUN_PREFIX))
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    table = settings().table
    repo = OperationRepository(table)
    payload = _event.validate_python(event)
    if isinstance(payload, FailInput):
        outcome = steps.fail(repo, DatasetRepository(table), payload)
    else:
        outcome = steps.finish(repo, DatasetRepository(table), SessionRepository(table), payload)
    return outcome.model_dump(mode="json", exclude_none=True)
