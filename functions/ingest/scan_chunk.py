"""Ingest step: count the records of byte ranges. In ScanChunks (a Distributed Map) one
invocation scans a batch of ranges (the ItemBatcher's ``{"Items", "BatchInput"}``), as
in RescanChunks; one range given alone is scanned as a batch of one."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import TypeAdapter
from sluice.config import settings
from sluice.datasets.repository import DatasetRepository
from sluice.ingest import scan_steps
from sluice.ingest.models import ScanBatch, ScanInput
from sluice.step_logging import run_at, step_handler

EVENT_MODEL = ScanBatch | ScanInput
_event: TypeAdapter[ScanBatch | ScanInput] = TypeAdapter(EVENT_MODEL)
_batch_run, _chunk_run = run_at("BatchInput", "dataset", "run"), run_at("dataset", "run")


@step_handler(lambda event: _batch_run(event) or _chunk_run(event))
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    repo = DatasetRepository(settings().table)
    payload = _event.validate_python(event)
    if isinstance(payload, ScanBatch):
        return [result.model_dump() for result in scan_steps.scan_batch(repo, payload)]
    (result,) = scan_steps.scan_batch(repo, ScanBatch.of(payload))
    return result.model_dump()
