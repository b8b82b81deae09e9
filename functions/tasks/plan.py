"""Task step: mark the task running, list the dataset's parts and the buckets."""

from typing import Any

from sluice.config import settings
from sluice.tasks import steps as task_steps
from sluice.tasks.repository import TaskRepository


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    repo = TaskRepository(settings().table)
    ref = task_steps.TaskRef.model_validate(event["task"])
    return task_steps.plan(repo, ref).model_dump(mode="json")
