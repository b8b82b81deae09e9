"""What a session's ``input_data`` and an operation's dataset inputs refer to: the
caller's own datasets, tasks and operations, checked to exist before they are stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sluice.datasets.models import Dataset, DatasetStatus
from sluice.datasets.repository import DatasetRepository
from sluice.operations.base import InputDataset
from sluice.operations.validation import Problem
from sluice.sessions.models import InputItem
from sluice.sessions.operation_models import OperationStatus
from sluice.sessions.repository import OperationRepository
from sluice.tasks.repository import TaskRepository


@dataclass(frozen=True)
class Stores:
    """The records table, and the repositories references are looked up in (all under
    the caller)."""

    table: str
    datasets: DatasetRepository
    tasks: TaskRepository
    operations: OperationRepository


def item_problem(stores: Stores, owner: str, item: InputItem) -> str | None:
    """Why ``item`` names nothing of ``owner``'s, or None. Another owner's id is simply
    not found, as every lookup is under the owner."""
    if item.type == "dataset":
        found = stores.datasets.find(owner, item.id)
        return None if found is not None else f"dataset {item.id} not found"
    if item.type == "task_output":
        task = stores.tasks.find(owner, item.id)
        if task is None:
            return f"task {item.id} not found"
        if item.file is not None:
            names = [f.name for f in task.result.output_files] if task.result else []
            if item.file not in names:
                return f"task {item.id} has no output file {item.file!r}"
        return None
    operation = stores.operations.find(owner, item.id)
    if operation is None:
        return f"operation {item.id} not found"
    if item.file is not None and item.file not in operation.output.datasets:
        return f"operation {item.id} has no output {item.file!r}"
    return None


def check_items(stores: Stores, owner: str, items: list[InputItem]) -> list[Problem]:
    """A problem naming each item of ``input_data`` that refers to nothing of the caller's."""
    problems = []
    for index, item in enumerate(items):
        problem = item_problem(stores, owner, item)
        if problem:
            problems.append(Problem(field=f"input_data[{index}]", problem=problem))
    return problems


def resolve_dataset(
    stores: Stores, owner: str, ref: dict[str, Any]
) -> tuple[Dataset | None, str | None]:
    """The ready dataset a dataset input names (a dataset, or an operation's output
    dataset), or why there is none."""
    if ref["type"] == "operation_output":
        operation = stores.operations.find(owner, ref["id"])
        if operation is None:
            return None, f"operation {ref['id']} not found"
        if operation.status is not OperationStatus.COMPLETED or not operation.output.datasets:
            return None, f"operation {ref['id']} has no output dataset (it is {operation.status})"
        dataset_id = ref.get("file") or operation.output.datasets[0]
        if dataset_id not in operation.output.datasets:
            return None, f"operation {ref['id']} has no output {dataset_id!r}"
    else:
        dataset_id = ref["id"]
    dataset = stores.datasets.find(owner, dataset_id)
    if dataset is None:
        return None, f"dataset {dataset_id} not found"
    if dataset.status is not DatasetStatus.READY or not dataset.data_run:
        return None, f"dataset {dataset_id} is not ready (status {dataset.status.value})"
    return dataset, None


def input_dataset(dataset: Dataset) -> InputDataset:
    """What an operation reads of a ready dataset."""
    assert dataset.data_run is not None
    return InputDataset(id=dataset.id, run=dataset.data_run, content_hash=dataset.content_hash)
