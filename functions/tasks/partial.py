"""Task step (one per part, in a Map): aggregate a part into hash-partitioned buckets."""

from typing import Any

from sluice.config import settings
from sluice.tasks import steps as task_steps
from sluice.tasks.repository import TaskRepository


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    repo = TaskRepository(settings().table)
    return task_steps.partial(repo, task_steps.PartialInput.model_validate(event))
