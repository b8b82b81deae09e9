"""Ingest step (beside the chunk scans): the SHA-256 of the whole object."""

from typing import Any

from sluice.pipelines import ingest
from sluice.pipelines.ingest_models import HashInput


def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    return ingest.hash_object(HashInput.model_validate(event))
