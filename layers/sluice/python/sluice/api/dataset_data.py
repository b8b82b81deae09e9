"""/datasets/{id}/rows and /datasets/{id}/download: the typed data."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel

from sluice.api.dependencies import DatasetId, dataset_repository
from sluice.api.errors import documented
from sluice.api.responses import json_response
from sluice.auth.identity import current_owner
from sluice.config import settings
from sluice.datasets import rows as row_reader
from sluice.datasets.export import Download, ExportFormat, request_download

router = APIGatewayRouter()


class RowPage(BaseModel):
    start_row: int
    num_rows: int
    row_count: int
    columns: list[str]
    rows: list[Any]


@router.get(
    "/datasets/<dataset_id>/rows",
    summary="Read typed rows",
    responses=documented(
        {
            200: {
                "description": "The rows: a page of JSON, or CSV text with format=csv",
                "content": {
                    "application/json": {"model": RowPage},
                    "text/csv": {"schema": {"type": "string"}},
                },
            },
            409: "Not ready",
        }
    ),
)
def read_rows(
    dataset_id: DatasetId,
    start_row: Annotated[int, Query(ge=0)] = 0,
    num_rows: Annotated[int, Query(ge=1, le=row_reader.MAX_ROWS)] = 100,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
    orient: Annotated[Literal["records", "values"], Query()] = "records",
) -> Response[Any]:
    """Rows typed by their columns' effective types. A value that fails its type is null
    and its raw text is in the row's ``_exceptions``. Only the Parquet parts and row
    groups holding the rows are read."""
    dataset = dataset_repository().get(current_owner(router), dataset_id)
    manifest = row_reader.typed_manifest(dataset)
    table = row_reader.read_rows(manifest, start_row, num_rows)
    if format == "csv":
        return Response(
            status_code=200,
            content_type="text/csv; charset=utf-8",
            body=row_reader.rows_as_csv(table),
        )
    body = RowPage(
        start_row=start_row,
        num_rows=table.num_rows,
        row_count=manifest.row_count,
        columns=[c.name for c in manifest.columns] + [row_reader.EXCEPTIONS],
        rows=row_reader.rows_as_records(table)
        if orient == "records"
        else row_reader.rows_as_values(table),
    )
    return json_response(200, body)


@router.get(
    "/datasets/<dataset_id>/download",
    summary="Download the typed dataset",
    responses=documented(
        {200: "Ready: the file's URL", 202: "Being prepared; ask again", 409: "Not ready"}
    ),
)
def download(
    dataset_id: DatasetId,
    format: Annotated[ExportFormat, Query()] = ExportFormat.CSV,
) -> Response[Download]:
    """A presigned URL of the whole typed dataset as one CSV or Parquet file. The first
    request builds the file and answers 202 with ``retry_after``; ask again."""
    dataset = dataset_repository().get(current_owner(router), dataset_id)
    answer = request_download(settings(), dataset, format)
    status = 200 if answer.status == "ready" else 202
    headers = {"Retry-After": str(answer.retry_after)} if answer.retry_after else None
    return json_response(status, answer, headers)
