"""/datasets: create with a presigned upload, list, get, update, delete, re-upload, and
upload in parts (files over the 5 GiB one presigned POST carries)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from sluice.api.dependencies import DatasetId, dataset_repository
from sluice.api.errors import ERROR_RESPONSES, JSON_BODY_RESPONSES, documented
from sluice.api.responses import json_response
from sluice.auth.identity import current_owner
from sluice.config import settings
from sluice.datasets import multipart, service
from sluice.datasets.models import (
    Dataset,
    DatasetCreate,
    DatasetCreated,
    DatasetDetail,
    DatasetPage,
    DatasetUpdate,
    UploadTicket,
)
from sluice.datasets.tree import folder_tree
from sluice.ingest import provisional

router = APIGatewayRouter()


@router.post(
    "/datasets",
    summary="Create a dataset",
    responses=documented({201: "Created"}, json_body=True),
)
def create_dataset(body: Annotated[DatasetCreate, Body()]) -> Response[DatasetCreated]:
    """Record a dataset and presign the upload of its CSV; ingestion starts when it lands."""
    created = service.create_dataset(settings(), dataset_repository(), current_owner(router), body)
    return json_response(201, created)


@router.get("/datasets", summary="List datasets", responses=ERROR_RESPONSES)
def list_datasets(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    next_token: Annotated[str | None, Query()] = None,
) -> DatasetPage:
    """The caller's datasets, a page at a time."""
    items, token = dataset_repository().list(current_owner(router), limit, next_token)
    return DatasetPage(items=items, next_token=token)


@router.get("/datasets/tree", summary="Folders and datasets", responses=ERROR_RESPONSES)
def dataset_tree(
    path: Annotated[str, Query(max_length=1000, description="Folder, e.g. 'sales/2024'.")] = "",
    depth: Annotated[int, Query(ge=0, le=32, description="0: the folder alone.")] = 1,
) -> Response[dict[str, Any]]:
    """The folder at ``path`` with its sub-folders and datasets, ``depth`` levels down."""
    tree = folder_tree(dataset_repository(), current_owner(router), path, depth)
    return json_response(200, tree)


@router.get("/datasets/<dataset_id>", summary="Get a dataset", responses=ERROR_RESPONSES)
def get_dataset(dataset_id: DatasetId) -> DatasetDetail:
    """One dataset: status, progress, row count, and its first 100 columns with inferred,
    preferred and effective types and statistics (provisional while inference runs);
    ``column_count`` says how many it has, GET /datasets/{id}/columns lists them all."""
    return provisional.dataset_detail(dataset_repository().get(current_owner(router), dataset_id))


@router.patch("/datasets/<dataset_id>", summary="Update a dataset", responses=JSON_BODY_RESPONSES)
def update_dataset(dataset_id: DatasetId, body: Annotated[DatasetUpdate, Body()]) -> Dataset:
    """Rename, move to another folder, or describe a dataset."""
    return service.update_dataset(dataset_repository(), current_owner(router), dataset_id, body)


@router.delete(
    "/datasets/<dataset_id>",
    summary="Delete a dataset",
    responses=documented({204: "Deleted"}),
)
def delete_dataset(dataset_id: DatasetId) -> Response[str]:
    """Delete a dataset and every object it owns."""
    service.delete_dataset(settings(), dataset_repository(), current_owner(router), dataset_id)
    return json_response(204, "")


@router.post(
    "/datasets/<dataset_id>/upload", summary="Presign a new upload", responses=ERROR_RESPONSES
)
def renew_upload(dataset_id: DatasetId) -> UploadTicket:
    """A fresh presigned POST, to replace the dataset's file or retry a failed upload."""
    return service.renew_upload(settings(), dataset_repository(), current_owner(router), dataset_id)


@router.post(
    "/datasets/<dataset_id>/multipart-upload",
    summary="Begin an upload in parts",
    responses=documented(
        {201: "Begun: PUT each part to its URL", 413: "Over the size limit"}, json_body=True
    ),
)
def start_multipart_upload(
    dataset_id: DatasetId, body: Annotated[multipart.MultipartStart, Body()]
) -> Response[multipart.MultipartTicket]:
    """Begin uploading the dataset's file in parts: one presigned PUT URL per part, each
    answering with the ETag to name when completing."""
    ticket = multipart.start(
        settings(), dataset_repository(), current_owner(router), dataset_id, body
    )
    return json_response(201, ticket)


@router.post(
    "/datasets/<dataset_id>/multipart-upload/complete",
    summary="Complete an upload in parts",
    responses=documented(
        {200: "Completed: the file landed and its ingest starts", 413: "Over the size limit"},
        json_body=True,
    ),
)
def complete_multipart_upload(
    dataset_id: DatasetId, body: Annotated[multipart.MultipartComplete, Body()]
) -> Dataset:
    """Join the parts (number and ETag each, in order) into the dataset's file."""
    return multipart.complete(
        settings(), dataset_repository(), current_owner(router), dataset_id, body
    )


@router.post(
    "/datasets/<dataset_id>/multipart-upload/abort",
    summary="Abort an upload in parts",
    responses=documented({204: "Aborted: its parts are dropped"}, json_body=True),
)
def abort_multipart_upload(
    dataset_id: DatasetId, body: Annotated[multipart.MultipartAbort, Body()]
) -> Response[str]:
    """End an upload in parts without a file."""
    multipart.abort(settings(), dataset_repository(), current_owner(router), dataset_id, body)
    return json_response(204, "")


@router.post(
    "/datasets/<dataset_id>/multipart-upload/parts",
    summary="Presign parts of an open upload again",
    responses=documented({200: "Fresh part URLs, and the parts that landed"}, json_body=True),
)
def renew_multipart_upload(
    dataset_id: DatasetId, body: Annotated[multipart.MultipartRenew, Body()]
) -> multipart.MultipartRenewal:
    """Fresh URLs for the named parts of an upload in parts still open (the first ones
    last an hour), and the parts S3 already holds with their ETags."""
    return multipart.renew(
        settings(), dataset_repository(), current_owner(router), dataset_id, body
    )
