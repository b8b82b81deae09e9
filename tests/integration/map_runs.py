"""Reading a Distributed Map's results back in the integration tests."""

from __future__ import annotations

from typing import Any

from sluice.config import settings
from sluice.store import map_results, objects


def scan_results(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The chunk results that ScanChunks' ResultWriter wrote, from the execution's first
    Map Run (its children's states are in their own histories, as in AWS)."""
    map_run = next(e for e in history if "mapRunStartedEventDetails" in e)
    run_id = map_run["mapRunStartedEventDetails"]["mapRunArn"].split(":")[-1]
    bucket = settings().data_bucket
    (manifest,) = [k for k in objects.list_keys(bucket, "work/") if f"/{run_id}/manifest" in k]
    outputs = map_results.outputs(map_results.ResultWriterDetails(Bucket=bucket, Key=manifest))
    return [result for batch in outputs for result in batch]
