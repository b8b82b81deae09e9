"""/datasets/{id}/columns, /datasets/{id}/preferred-types and /datasets/{id}/inference:
the columns and managing their inference."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from sluice.api.dependencies import DatasetId, dataset_repository
from sluice.api.errors import documented
from sluice.api.responses import json_response
from sluice.auth.identity import current_owner
from sluice.config import settings
from sluice.datasets.columns import MAX_PAGE_COLUMNS, PAGE_COLUMNS, ColumnPage
from sluice.datasets.models import Dataset
from sluice.ingest import commands, provisional
from sluice.ingest.commands import InferenceCommand, InferenceStatus, PreferredTypes

router = APIGatewayRouter()


@router.get(
    "/datasets/<dataset_id>/columns",
    summary="List a dataset's columns",
    responses=documented({409: "No columns yet"}),
)
def list_columns(
    dataset_id: DatasetId,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_COLUMNS)] = PAGE_COLUMNS,
    next_token: Annotated[str | None, Query()] = None,
) -> ColumnPage:
    """The dataset's columns in the file's order, a page at a time, each with its inferred,
    preferred and effective types and statistics (provisional while inference runs). A
    page holds ``limit`` columns, fewer where they would pass 2 MB."""
    dataset = dataset_repository().get(current_owner(router), dataset_id)
    return provisional.column_page(dataset, limit, next_token)


@router.put(
    "/datasets/<dataset_id>/preferred-types",
    summary="Set preferred column types",
    responses=documented({202: "Re-converting", 409: "Not ready"}, json_body=True),
)
def set_preferred_types(
    dataset_id: DatasetId, body: Annotated[PreferredTypes, Body()]
) -> Response[Dataset]:
    """Prefer types for columns (null removes a preference) and optionally a new tolerance.

    The dataset is re-converted from its stored statistics, without re-scanning the file.
    """
    owner = current_owner(router)
    dataset = commands.set_preferred_types(
        settings(), dataset_repository(), owner, dataset_id, body
    )
    return json_response(202, dataset)


@router.post(
    "/datasets/<dataset_id>/inference",
    summary="Manage inference",
    responses=documented(
        {200: "Done", 202: "Started", 409: "Conflicts with the dataset's state"}, json_body=True
    ),
)
def manage_inference(
    dataset_id: DatasetId, body: Annotated[InferenceCommand, Body()]
) -> Response[InferenceStatus]:
    """start (again, on the stored file, with new settings), stop (the dataset keeps its
    previous schema), reset (forget schema and typed data), status."""
    owner = current_owner(router)
    status, dataset = commands.run_command(
        settings(), dataset_repository(), owner, dataset_id, body
    )
    return json_response(status, commands.status_of(dataset))
