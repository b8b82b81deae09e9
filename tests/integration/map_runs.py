"""Reading a Distributed Map's results back in the integration tests."""

from __future__ import annotations

from typing import Any

from sluice.config import settings
from sluice.store import map_results, objects


def map_run_results(history: list[dict[str, Any]], run: int) -> list[dict[str, Any]]:
    """Every child's results (each child's output is its batch's list) that the
    execution's ``run``-th Map Run (0: the first started) wrote with its ResultWriter; its
    children's states are in their own histories, as in AWS."""
    started = [e for e in history if "mapRunStartedEventDetails" in e]
    run_id = started[run]["mapRunStartedEventDetails"]["mapRunArn"].split(":")[-1]
    bucket = settings().data_bucket
    (manifest,) = [k for k in objects.list_keys(bucket, "work/") if f"/{run_id}/manifest" in k]
    outputs = map_results.outputs(map_results.ResultWriterDetails(Bucket=bucket, Key=manifest))
    return [result for batch in outputs for result in batch]


def scan_results(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every chunk's scan, as ScanChunks (the ingest's first Map Run) wrote it."""
    return map_run_results(history, 0)


def rescan_results(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every chunk scanned again, as RescanChunks (the ingest's second Map Run) wrote it."""
    return map_run_results(history, 1)


def convert_results(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every part ConvertChunks (the ingest's last Map Run) converted."""
    return map_run_results(history, -1)
