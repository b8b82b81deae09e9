"""The TensorFlow function's import: the import state machine's one step (and, from its
Catch, the failure's record). A file the import refuses fails its job; that is an
answer, not an error."""

from __future__ import annotations

from typing import Any

from sluice.config import settings
from sluice.networks.import_models import ImportStepInput
from sluice.networks.import_repository import ImportJobRepository
from sluice.networks.import_step import run_import
from sluice.networks.repository import GraphRepository

EVENT_MODEL = ImportStepInput


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """``{"job": {owner, id, bucket, key, size, etag}, "failure"?: {Error, Cause}}`` ->
    ``{"status", "error"?, "graph_id"?}``."""
    cfg = settings()
    request = EVENT_MODEL.model_validate(event)
    result = run_import(cfg, ImportJobRepository(cfg.table), GraphRepository(cfg.table), request)
    return result.model_dump(mode="json", exclude_none=True)
