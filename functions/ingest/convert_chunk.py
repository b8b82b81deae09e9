"""Ingest step: convert chunks to typed Parquet. In ConvertChunks (a Distributed Map) one
invocation converts a batch of spans (the ItemBatcher's ``{"Items", "BatchInput"}``)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import TypeAdapter
from sluice.config import settings
from sluice.datasets.repository import DatasetRepository
from sluice.ingest import convert_step
from sluice.ingest.models import ConvertBatch, ConvertInput
from sluice.step_logging import run_at, step_handler

EVENT_MODEL = ConvertBatch | ConvertInput
_event: TypeAdapter[ConvertBatch | ConvertInput] = TypeAdapter(EVENT_MODEL)
_batch_run, _span_run = run_at("BatchInput", "dataset", "run"), run_at("dataset", "run")


@step_handler(lambda event: _batch_run(event) or _span_run(event))
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    repo = DatasetRepository(settings().table)
    payload = _event.validate_python(event)
    if isinstance(payload, ConvertBatch):
        return [part.model_dump() for part in convert_step.convert_batch(repo, payload)]
    return convert_step.convert_chunk(repo, payload).model_dump()
