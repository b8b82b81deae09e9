"""Task step (one per bucket, in a Map): merge a bucket's partials, write its files."""

from typing import Any

from sluice.config import settings
from sluice.tasks import steps as task_steps
from sluice.tasks.repository import TaskRepository


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    repo = TaskRepository(settings().table)
    return task_steps.reduce(repo, task_steps.ReduceInput.model_validate(event)).model_dump()
