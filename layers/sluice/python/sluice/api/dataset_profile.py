"""/datasets/{id}/columns/{column}/profile: what a chart of one column needs."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from sluice.api.dependencies import DatasetId, dataset_repository
from sluice.api.errors import documented
from sluice.auth.identity import current_owner
from sluice.datasets import rows as row_reader
from sluice.datasets.workspace import Workspace
from sluice.operations.column_profile import ColumnProfile, column_profile

router = APIGatewayRouter()

MAX_BINS = 200
MAX_TOP = 100


@router.get(
    "/datasets/<dataset_id>/columns/<column>/profile",
    summary="Profile a column for a chart",
    responses=documented({409: "Not ready"}),
)
def profile(
    dataset_id: DatasetId,
    column: Annotated[str, Path(description="The column's name, percent-encoded.")],
    bins: Annotated[int, Query(ge=1, le=MAX_BINS)] = 20,
    top: Annotated[int, Query(ge=1, le=MAX_TOP)] = 10,
) -> ColumnProfile:
    """A histogram of a number or time column, or the most frequent values of another,
    from the typed data (evenly spaced parts past two million rows: ``sampled``)."""
    dataset = dataset_repository().get(current_owner(router), dataset_id)
    manifest = row_reader.typed_manifest(dataset)
    # The gateway hands the path over as the client encoded it (a space is %20).
    workspace = Workspace(dataset.owner, dataset.id, manifest.run)
    return column_profile(workspace, manifest, unquote(column), bins, top)
