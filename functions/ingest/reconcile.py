"""Ingest step: settle each chunk's quote parity; list the chunks to scan again."""

from typing import Any

from pydantic import TypeAdapter
from sluice.ingest import scan_steps as ingest
from sluice.ingest.models import ChunkResult

_chunks = TypeAdapter(list[ChunkResult])


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return ingest.reconcile(_chunks.validate_python(event["chunks"])).model_dump()
