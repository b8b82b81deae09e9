"""PUT /datasets/{id}/content: a small CSV sent inline, for scripts."""

from __future__ import annotations

import base64
from typing import Annotated, cast

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from sluice.api.datasets import DatasetId
from sluice.api.errors import documented
from sluice.api.responses import json_response
from sluice.auth.identity import current_owner
from sluice.config import settings
from sluice.datasets import duplicates, service
from sluice.datasets.content_hash import content_hash
from sluice.datasets.models import Dataset
from sluice.datasets.repository import DatasetRepository
from sluice.errors import BadRequest, Conflict, PayloadTooLarge
from sluice.store import objects

router = APIGatewayRouter()

INLINE_MAX_BYTES = 5 * 1024 * 1024
"""API Gateway and Lambda carry a few MB; larger files go through the presigned POST."""


@router.put(
    "/datasets/<dataset_id>/content",
    summary="Upload a small CSV inline",
    responses=documented({202: "Ingesting", 409: "Same content already held", 413: "Too large"}),
)
def put_content(
    dataset_id: DatasetId,
    allow_duplicate: Annotated[
        bool, Query(description="Keep a copy of content already held.")
    ] = False,
) -> Response[Dataset]:
    """The request body is the CSV (up to 5 MiB); ingestion starts as after an upload.
    Content one of your datasets already holds answers 409 naming it, unless
    ``allow_duplicate=true``."""
    event = cast(APIGatewayProxyEvent, router.current_event)
    raw = event.body or ""
    body = base64.b64decode(raw) if event.is_base64_encoded else raw.encode()
    if not body:
        raise BadRequest("the request body is empty: send the CSV as the body")
    if len(body) > INLINE_MAX_BYTES:
        raise PayloadTooLarge(
            f"inline content is limited to {INLINE_MAX_BYTES} bytes; this is {len(body)}: "
            "upload it with POST /datasets/{id}/upload instead"
        )
    cfg, owner = settings(), current_owner(router)
    repo = DatasetRepository(cfg.table)
    repo.get(owner, dataset_id)
    holder = duplicates.holder_of(cfg.table, owner, content_hash(body), dataset_id)
    if holder and not allow_duplicate:
        raise Conflict(
            f"the same content is already in dataset {holder}",
            {"dataset_id": holder},
        )
    if allow_duplicate:
        repo.update(owner, dataset_id, {"allow_duplicate": True})
    key = service.new_upload_key(owner, dataset_id)
    objects.put_bytes(cfg.upload_bucket, key, body, "text/csv")
    return json_response(202, repo.get(owner, dataset_id))
