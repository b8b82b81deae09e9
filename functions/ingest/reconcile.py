"""Ingest step: settle each chunk's quote parity; list the chunks to scan again."""

from typing import Any

from pydantic import TypeAdapter
from sluice.pipelines import ingest
from sluice.pipelines.ingest_models import ChunkResult

_chunks = TypeAdapter(list[ChunkResult])


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return ingest.reconcile(_chunks.validate_python(event["chunks"])).model_dump()
