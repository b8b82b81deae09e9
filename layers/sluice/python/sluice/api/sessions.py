"""Data sessions and the operations run on them."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from sluice.api.errors import ERROR_RESPONSES, documented
from sluice.api.responses import json_response
from sluice.auth.identity import current_owner
from sluice.config import settings
from sluice.datasets.repository import DatasetRepository
from sluice.sessions import runs, service
from sluice.sessions.models import Session, SessionCreate, SessionPage, SessionUpdate
from sluice.sessions.operation_models import (
    OperationCreate,
    OperationPage,
    SessionOperation,
)
from sluice.sessions.references import Stores
from sluice.sessions.repository import OperationRepository, SessionRepository
from sluice.tasks.repository import TaskRepository

router = APIGatewayRouter()

_RECORD_ID = r"^[0-9a-f]{32}$"
SessionId = Annotated[str, Path(pattern=_RECORD_ID, description="The session's id.")]
OperationId = Annotated[str, Path(pattern=_RECORD_ID, description="The operation's id.")]


def _sessions() -> SessionRepository:
    return SessionRepository(settings().table)


def _stores() -> Stores:
    table = settings().table
    return Stores(
        table=table,
        datasets=DatasetRepository(table),
        tasks=TaskRepository(table),
        operations=OperationRepository(table),
    )


@router.post(
    "/sessions",
    summary="Create a session",
    responses=documented(
        {201: "Created", 422: "An input item names nothing of yours"}, json_body=True
    ),
)
def create_session(body: Annotated[SessionCreate, Body()]) -> Response[Session]:
    """A session: a name and ``input_data``, references to your datasets
    (``{"type": "dataset", "id"}``) or to what a task or operation produced
    (``{"type": "task_output" | "operation_output", "id", "file"?}``)."""
    session = service.create_session(_sessions(), _stores(), current_owner(router), body)
    return json_response(201, session)


@router.get("/sessions", summary="List sessions", responses=ERROR_RESPONSES)
def list_sessions(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    next_token: Annotated[str | None, Query()] = None,
) -> SessionPage:
    """Your sessions, a page at a time."""
    items, token = _sessions().list(current_owner(router), limit, next_token)
    return SessionPage(items=items, next_token=token)


@router.get("/sessions/<session_id>", summary="Get a session", responses=ERROR_RESPONSES)
def get_session(session_id: SessionId) -> Session:
    """One session."""
    return _sessions().get(current_owner(router), session_id)


@router.patch(
    "/sessions/<session_id>",
    summary="Update a session",
    responses=documented({422: "An input item names nothing of yours"}, json_body=True),
)
def update_session(session_id: SessionId, body: Annotated[SessionUpdate, Body()]) -> Session:
    """Rename it, and append new ``input_data`` items (those already there stay once)."""
    return service.update_session(_sessions(), _stores(), current_owner(router), session_id, body)


@router.delete(
    "/sessions/<session_id>", summary="Delete a session", responses=documented({204: "Deleted"})
)
def delete_session(session_id: SessionId) -> Response[str]:
    """Delete the session and its operations (running ones are stopped)."""
    owner = current_owner(router)
    service.delete_session(settings(), _sessions(), _stores(), owner, session_id)
    return json_response(204, "")


@router.post(
    "/sessions/<session_id>/operations",
    summary="Run an operation",
    responses=documented(
        {
            200: "Answered from the cache: COMPLETED, with an earlier run's output",
            202: "Started",
            422: "The inputs do not fit the operation's wizard or the data",
        },
        json_body=True,
    ),
)
def start_operation(
    session_id: SessionId, body: Annotated[OperationCreate, Body()]
) -> Response[SessionOperation]:
    """Run ``name`` (see GET /operations) on ``input_data``, validated against its wizard
    first. The same request on the same data is answered at once from the cache."""
    operation, started = runs.start_operation(
        settings(), _sessions(), _stores(), current_owner(router), session_id, body
    )
    return json_response(202 if started else 200, operation)


@router.get(
    "/sessions/<session_id>/operations",
    summary="List a session's operations",
    responses=ERROR_RESPONSES,
)
def list_operations(
    session_id: SessionId,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    next_token: Annotated[str | None, Query()] = None,
) -> OperationPage:
    """The session's operations, a page at a time (JSON outputs only in GET of one)."""
    owner = current_owner(router)
    _sessions().get(owner, session_id)
    items, token = OperationRepository(settings().table).list(owner, session_id, limit, next_token)
    return OperationPage(items=items, next_token=token)


@router.get(
    "/sessions/<session_id>/operations/<operation_id>",
    summary="Get an operation",
    responses=ERROR_RESPONSES,
)
def get_operation(session_id: SessionId, operation_id: OperationId) -> SessionOperation:
    """Status, progress, message, timings and output (its datasets, or its JSON data)."""
    owner = current_owner(router)
    return runs.get_operation(settings(), _stores(), owner, session_id, operation_id)


@router.delete(
    "/sessions/<session_id>/operations/<operation_id>",
    summary="Delete an operation",
    responses=documented({204: "Deleted"}),
)
def delete_operation(session_id: SessionId, operation_id: OperationId) -> Response[str]:
    """Delete it, stopping it if it runs; its output datasets are deleted with it."""
    owner = current_owner(router)
    runs.delete_operation(settings(), _stores(), owner, session_id, operation_id)
    return json_response(204, "")


_IDS = r"^[0-9a-f]{32}(,[0-9a-f]{32}){0,99}$"


@router.delete(
    "/sessions/<session_id>/operations",
    summary="Delete several operations",
    responses=documented({204: "Deleted"}),
)
def delete_operations(
    session_id: SessionId,
    ids: Annotated[str, Query(pattern=_IDS, description="Operation ids, comma-separated.")],
) -> Response[str]:
    """Delete the operations ``ids`` of the session (stopping those that run); if any is
    not found, none is deleted. No body, as every DELETE of the API answers."""
    owner = current_owner(router)
    runs.delete_operations(settings(), _stores(), owner, session_id, ids.split(","))
    return json_response(204, "")
