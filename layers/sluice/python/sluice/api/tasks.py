"""Analysis tasks: start on a dataset, list, get, cancel, delete, and the result."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from sluice.api.dependencies import DatasetId, TaskId, dataset_repository, task_repository
from sluice.api.errors import ERROR_RESPONSES, documented
from sluice.api.responses import json_response
from sluice.auth.identity import current_owner
from sluice.config import settings
from sluice.tasks import service
from sluice.tasks.models import Task, TaskCreate, TaskPage, TaskResult, TaskStatus

router = APIGatewayRouter()


@router.post(
    "/datasets/<dataset_id>/tasks",
    summary="Start an analysis task",
    responses=documented({202: "Started", 409: "The dataset is not ready"}, json_body=True),
)
def start_task(dataset_id: DatasetId, body: Annotated[TaskCreate, Body()]) -> Response[Task]:
    """Aggregate the dataset (group_by + aggregations + filter, or the BMAT preset)
    into output files no larger than ``output.max_file_bytes``."""
    task = service.start_task(
        settings(),
        dataset_repository(),
        task_repository(),
        current_owner(router),
        dataset_id,
        body,
    )
    return json_response(202, task)


@router.get("/tasks", summary="List tasks", responses=ERROR_RESPONSES)
def list_tasks(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    next_token: Annotated[str | None, Query()] = None,
    dataset_id: Annotated[str | None, Query(pattern=r"^[0-9a-f]{32}$")] = None,
    status: Annotated[TaskStatus | None, Query()] = None,
) -> TaskPage:
    """The caller's tasks, a page at a time, optionally of one dataset or status."""
    items, token = task_repository().list(
        current_owner(router), limit, next_token, dataset_id, status
    )
    return TaskPage(items=items, next_token=token)


@router.get("/tasks/<task_id>", summary="Get a task", responses=ERROR_RESPONSES)
def get_task(task_id: TaskId) -> Task:
    """Status, progress, timings, error and result of one task."""
    return task_repository().get(current_owner(router), task_id)


@router.post(
    "/tasks/<task_id>/cancel",
    summary="Cancel a task",
    responses=documented({409: "Already ended"}),
)
def cancel_task(task_id: TaskId) -> Task:
    """Stop a queued or running task; no partial output becomes a result."""
    return service.cancel_task(settings(), task_repository(), current_owner(router), task_id)


@router.delete("/tasks/<task_id>", summary="Delete a task", responses=documented({204: "Deleted"}))
def delete_task(task_id: TaskId) -> Response[str]:
    """Delete a task (stopping it if it runs) and its output files."""
    service.delete_task(settings(), task_repository(), current_owner(router), task_id)
    return json_response(204, "")


@router.get(
    "/tasks/<task_id>/result",
    summary="A task's result",
    responses=documented({406: "The task failed or was cancelled", 425: "Still running"}),
)
def task_result(task_id: TaskId) -> TaskResult:
    """BMAT's semantics: 425 Too Early while queued or running, 406 with the error after
    a failure, 200 with ``output_files`` (name, bytes, rows, presigned url) when done."""
    return service.task_result(settings(), task_repository(), current_owner(router), task_id)
