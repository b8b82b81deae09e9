"""/networks/import-jobs: a saved Keras model uploaded through a presigned POST and
imported as a graph by the TensorFlow function, started by the upload itself."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from sluice.api.dependencies import graph_repository
from sluice.api.errors import ERROR_RESPONSES, documented
from sluice.api.responses import json_response
from sluice.auth.identity import current_owner
from sluice.config import settings
from sluice.networks import import_jobs
from sluice.networks.graph_models import Graph
from sluice.networks.import_models import (
    ImportJob,
    ImportJobCreate,
    ImportJobCreated,
    ImportJobPage,
)
from sluice.networks.import_repository import ImportJobRepository

router = APIGatewayRouter()

JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The import job's id.")]
NOT_QUEUED = "The job is no longer queued (its file has landed, or it has ended)"


def _repository() -> ImportJobRepository:
    return ImportJobRepository(settings().table)


@router.post(
    "/networks/import-jobs",
    summary="Start a model import",
    responses=documented(
        {
            201: "Created: upload the file with the presigned POST; its landing starts the import",
            413: "The file is over the import size limit",
            422: "The file's extension is not .keras, .h5 or .zip, or a field is invalid",
            429: "Too many pending imports, or pending bytes, for this user",
        },
        json_body=True,
    ),
)
def create_import_job(body: Annotated[ImportJobCreate, Body()]) -> Response[ImportJobCreated]:
    """Record a queued import job and presign its upload: a POST of exactly ``bytes``
    bytes. The upload landing in S3 starts the import; no other call is needed."""
    created = import_jobs.create_job(settings(), _repository(), current_owner(router), body)
    return json_response(201, created)


@router.get("/networks/import-jobs", summary="List import jobs", responses=ERROR_RESPONSES)
def list_import_jobs(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    next_token: Annotated[str | None, Query()] = None,
) -> ImportJobPage:
    """The caller's import jobs, a page at a time."""
    items, token = _repository().list(current_owner(router), limit, next_token)
    return ImportJobPage(items=items, next_token=token)


@router.get(
    "/networks/import-jobs/<job_id>", summary="Get an import job", responses=ERROR_RESPONSES
)
def get_import_job(job_id: JobId) -> ImportJob:
    """One of the caller's import jobs: its status, and its ``graph_payload`` once it
    succeeded (or its ``error`` once it failed)."""
    return _repository().get(current_owner(router), job_id)


@router.post(
    "/networks/import-jobs/<job_id>/cancel",
    summary="Cancel a queued import job",
    responses=documented({409: NOT_QUEUED}),
)
def cancel_import_job(job_id: JobId) -> ImportJob:
    """Cancel a job still waiting for its file; a file sent after is deleted unread."""
    return import_jobs.cancel_job(_repository(), current_owner(router), job_id)


@router.post(
    "/networks/import-jobs/<job_id>/create-graph",
    summary="Create the graph of a succeeded import",
    responses=documented({201: "Created", 409: "The job has not succeeded"}),
)
def create_graph_from_import(job_id: JobId) -> Response[Graph]:
    """Store the graph the import produced as one of the caller's graphs."""
    graph = import_jobs.create_graph(
        _repository(), graph_repository(), current_owner(router), job_id
    )
    return json_response(201, graph)
