"""Tasks in the records table, under their owner."""

from __future__ import annotations

import builtins
from typing import Any

from boto3.dynamodb.conditions import Attr

from sluice.datasets.models import utcnow
from sluice.errors import NotFound
from sluice.store.records import RecordTable
from sluice.tasks.models import Task, TaskChanges, TaskStatus

PREFIX = "TASK#"
_PARTIAL_SHARE, _REDUCE_SHARE = 0.6, 0.35


def _sk(task_id: str) -> str:
    return f"{PREFIX}{task_id}"


def _load(data: dict[str, Any]) -> Task:
    task = Task.model_validate(data)
    if task.status is TaskStatus.RUNNING and task.parts:
        partial = min(task.parts_done, task.parts) / task.parts
        reduced = min(task.buckets_done, task.buckets or 1) / (task.buckets or 1)
        task.progress = round(_PARTIAL_SHARE * partial + _REDUCE_SHARE * reduced, 4)
    return task


class TaskRepository:
    def __init__(self, table_name: str) -> None:
        self._records = RecordTable(table_name)

    def create(self, task: Task) -> None:
        data = task.model_dump(mode="json")
        data.update(owner=task.owner, parts_done=0, buckets_done=0, data_run=task.data_run)
        self._records.put(task.owner, _sk(task.id), data, must_be_new=True)

    def get(self, owner: str, task_id: str) -> Task:
        """The owner's task; NotFound for an unknown id or another owner's."""
        data = self._records.get(owner, _sk(task_id))
        if data is None:
            raise NotFound(f"task {task_id} not found")
        return _load(data)

    def list(
        self,
        owner: str,
        limit: int,
        next_token: str | None,
        dataset_id: str | None = None,
        status: TaskStatus | None = None,
    ) -> tuple[builtins.list[Task], str | None]:
        condition = None
        if dataset_id:
            condition = Attr("dataset_id").eq(dataset_id)
        if status:
            by_status = Attr("status").eq(status.value)
            condition = by_status if condition is None else condition & by_status
        items, token = self._records.query(owner, PREFIX, limit, next_token, condition)
        return [_load(i) for i in items], token

    def update(
        self,
        owner: str,
        task_id: str,
        changes: TaskChanges,
        *,
        only_if_status: TaskStatus | None = None,
        add_parts_done: int = 0,
        add_buckets_done: int = 0,
    ) -> Task | None:
        """Apply ``changes``; None when the task is gone or ``only_if_status`` fails."""
        data = self._records.update(
            owner,
            _sk(task_id),
            {**changes.written(), "updated_at": utcnow().isoformat()},
            add={
                name: amount
                for name, amount in (
                    ("parts_done", add_parts_done),
                    ("buckets_done", add_buckets_done),
                )
                if amount
            },
            only_if=("status", only_if_status.value) if only_if_status else None,
        )
        return None if data is None else _load(data)

    def delete(self, owner: str, task_id: str) -> None:
        if not self._records.delete(owner, _sk(task_id)):
            raise NotFound(f"task {task_id} not found")
