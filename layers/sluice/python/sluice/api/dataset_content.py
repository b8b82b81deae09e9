"""PUT /datasets/{id}/content: a small CSV sent inline, for scripts."""

from __future__ import annotations

import base64
from typing import Annotated, cast

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from sluice.api.dependencies import DatasetId, dataset_repository
from sluice.api.errors import documented
from sluice.api.responses import json_response
from sluice.auth.identity import current_owner
from sluice.config import settings
from sluice.datasets import inline_upload
from sluice.datasets.models import Dataset

router = APIGatewayRouter()


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
    dataset = inline_upload.store_inline(
        settings(),
        dataset_repository(),
        current_owner(router),
        dataset_id,
        body,
        allow_duplicate=allow_duplicate,
    )
    return json_response(202, dataset)
