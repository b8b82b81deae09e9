"""Ingest step: settle each chunk's quote parity; list the chunks to scan again (in S3,
for RescanChunks, where the scans' results are in S3; in the answer, where given inline)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sluice.ingest import scan_steps
from sluice.ingest.models import ReconcileInput
from sluice.step_logging import run_at, step_handler

EVENT_MODEL = ReconcileInput


@step_handler(run_at("dataset", "run"))
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    payload = EVENT_MODEL.model_validate(event)
    if payload.scanned is None:
        return scan_steps.reconcile(payload.chunks).model_dump()
    if payload.dataset is None:
        raise ValueError("the scans' results in S3 come with the dataset they belong to")
    reconciled = scan_steps.reconcile(scan_steps.scanned_chunks(payload.scanned))
    return scan_steps.rescans(payload.dataset, reconciled).model_dump(mode="json")
