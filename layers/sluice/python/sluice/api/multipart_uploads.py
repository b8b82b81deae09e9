"""/datasets/{id}/multipart-upload: a file in presigned parts, for files over 5 GiB."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from sluice.api.datasets import DatasetId
from sluice.api.errors import documented
from sluice.api.identity import current_owner
from sluice.api.responses import json_response
from sluice.config import settings
from sluice.datasets import multipart
from sluice.datasets.models import Dataset
from sluice.datasets.repository import DatasetRepository

router = APIGatewayRouter()


def _repo() -> DatasetRepository:
    return DatasetRepository(settings().table)


@router.post(
    "/datasets/<dataset_id>/multipart-upload",
    summary="Begin an upload in parts",
    responses=documented({201: "Begun: PUT each part to its URL", 413: "Over the size limit"}),
)
def start_multipart_upload(
    dataset_id: DatasetId, body: Annotated[multipart.MultipartStart, Body()]
) -> Response[multipart.MultipartTicket]:
    """Begin uploading the dataset's file in parts: one presigned PUT URL per part, each
    answering with the ETag to name when completing."""
    ticket = multipart.start(settings(), _repo(), current_owner(router), dataset_id, body)
    return json_response(201, ticket)


@router.post(
    "/datasets/<dataset_id>/multipart-upload/complete",
    summary="Complete an upload in parts",
    responses=documented(
        {200: "Completed: the file landed and its ingest starts", 413: "Over the size limit"}
    ),
)
def complete_multipart_upload(
    dataset_id: DatasetId, body: Annotated[multipart.MultipartComplete, Body()]
) -> Dataset:
    """Join the parts (number and ETag each, in order) into the dataset's file."""
    return multipart.complete(settings(), _repo(), current_owner(router), dataset_id, body)


@router.post(
    "/datasets/<dataset_id>/multipart-upload/abort",
    summary="Abort an upload in parts",
    responses=documented({204: "Aborted: its parts are dropped"}),
)
def abort_multipart_upload(
    dataset_id: DatasetId, body: Annotated[multipart.MultipartAbort, Body()]
) -> Response[str]:
    """End an upload in parts without a file."""
    multipart.abort(settings(), _repo(), current_owner(router), dataset_id, body)
    return json_response(204, "")
