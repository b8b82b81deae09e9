"""Task step: record the output files, or the failure."""

from typing import Any

from pydantic import TypeAdapter
from sluice.config import settings
from sluice.tasks import steps as task_steps
from sluice.tasks.repository import TaskRepository

_reduced = TypeAdapter(list[task_steps.Reduced])


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    repo = TaskRepository(settings().table)
    ref = task_steps.TaskRef.model_validate(event["task"])
    if "error" in event:
        return task_steps.fail(repo, ref, event["error"])
    return task_steps.finish(repo, ref, _reduced.validate_python(event["reduced"]))
