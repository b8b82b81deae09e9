"""Tasks in the records table, under their owner."""

from __future__ import annotations

import builtins
from typing import Any

from sluice.store.owned_records import OwnedRecords
from sluice.tasks.models import Task, TaskChanges, TaskStatus

PREFIX = "TASK#"
_PARTIAL_SHARE, _REDUCE_SHARE = 0.6, 0.35


def _load(data: dict[str, Any]) -> Task:
    task = Task.model_validate(data)
    if task.status is TaskStatus.RUNNING and task.parts:
        partial = min(task.parts_done, task.parts) / task.parts
        reduced = min(task.buckets_done, task.buckets or 1) / (task.buckets or 1)
        task.progress = round(_PARTIAL_SHARE * partial + _REDUCE_SHARE * reduced, 4)
    return task


class TaskRepository(OwnedRecords[Task]):
    """Tasks, always addressed through their owner."""

    def __init__(self, table_name: str) -> None:
        super().__init__(table_name, "task", PREFIX)

    def _load(self, data: dict[str, Any]) -> Task:
        return _load(data)

    def create(self, task: Task) -> None:
        data = task.model_dump(mode="json")
        data.update(parts_done=0, buckets_done=0, data_run=task.data_run)
        self._put_new(task.owner, task.id, data)

    def list(
        self,
        owner: str,
        limit: int,
        next_token: str | None,
        dataset_id: str | None = None,
        status: TaskStatus | None = None,
    ) -> tuple[builtins.list[Task], str | None]:
        """A page of the owner's tasks, of one dataset or in one status if asked."""
        wanted = status.value if status else None
        return self._page_where(
            owner, limit, next_token, dataset_id=dataset_id or None, status=wanted
        )

    def update(
        self,
        owner: str,
        task_id: str,
        changes: TaskChanges,
        *,
        only_if_status: TaskStatus | frozenset[TaskStatus] | None = None,
        add_parts_done: int = 0,
        add_buckets_done: int = 0,
    ) -> Task | None:
        """Apply ``changes``; None when the task is gone or its status is not ``only_if_status`` (or
        one of them)."""
        return self._update(
            owner,
            task_id,
            changes.written(),
            add={"parts_done": add_parts_done, "buckets_done": add_buckets_done},
            only_if=self._status_is(only_if_status),
        )
