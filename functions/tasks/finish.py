"""Task step: record the output files, or the failure."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import TypeAdapter
from sluice.config import settings
from sluice.datasets.repository import DatasetRepository
from sluice.step_logging import run_at, step_handler
from sluice.tasks import steps_end
from sluice.tasks.models import RUN_PREFIX
from sluice.tasks.repository import TaskRepository
from sluice.tasks.step_models import FailInput, FinishInput

# Finish's payload after the reducers (where their results are), RecordFailure's (with
# the Catch's error) after any step failed.
EVENT_MODEL = FinishInput | FailInput
_event: TypeAdapter[FinishInput | FailInput] = TypeAdapter(EVENT_MODEL)


@step_handler(run_at("task", "id", prefix=RUN_PREFIX))
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    repo = TaskRepository(settings().table)
    payload = _event.validate_python(event)
    if isinstance(payload, FailInput):
        outcome = steps_end.fail(repo, DatasetRepository(settings().table), payload)
    else:
        outcome = steps_end.finish(repo, payload)
    return outcome.model_dump(mode="json", exclude_none=True)
