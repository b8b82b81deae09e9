"""Reading back what a Distributed Map's ResultWriter wrote to S3.

A Distributed Map with a ``ResultWriter`` leaves its children's results in S3, not in
the state: ``<prefix>/<map run id>/manifest.json`` names the result files by status,
each a JSON array with one entry per child execution, whose ``Input`` and ``Output``
are JSON texts and, for a failed child, ``Error`` and ``Cause``
(https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html).
The state carries only ``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}``.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from sluice.store import objects

SUCCEEDED = "SUCCEEDED"
MANIFEST = "manifest.json"


class ResultWriterDetails(BaseModel):
    """Where a Map Run's manifest is: the state's ``ResultWriterDetails``."""

    Bucket: str
    Key: str


class ChildFailure(BaseModel):
    """A failed child execution's error, as Step Functions recorded it."""

    Error: str
    Cause: str | None = None
    input: Any = None


def _entries(bucket: str, manifest: dict[str, Any], status: str) -> list[dict[str, Any]]:
    keys = [listed["Key"] for listed in manifest["ResultFiles"].get(status, [])]
    return [entry for body in objects.get_all(bucket, keys) for entry in json.loads(body)]


def outputs(details: ResultWriterDetails) -> list[Any]:
    """Every succeeded child's output, parsed; in no particular order (AWS lists them as
    they finished): the caller orders them by what they hold."""
    manifest = json.loads(objects.get_bytes(details.Bucket, details.Key))
    return [json.loads(entry["Output"]) for entry in _entries(details.Bucket, manifest, SUCCEEDED)]


def failures(bucket: str, prefix: str) -> list[ChildFailure]:
    """The failed children of every Map Run whose results were written under ``prefix``
    (a failed Map Run's state has no ``ResultWriterDetails`` to name its manifest)."""
    found: list[ChildFailure] = []
    for key in sorted(objects.list_keys(bucket, prefix)):
        if not key.endswith(f"/{MANIFEST}"):
            continue
        manifest = json.loads(objects.get_bytes(bucket, key))
        for status in ("FAILED", "PENDING"):
            for entry in _entries(bucket, manifest, status):
                if "Error" in entry:
                    found.append(
                        ChildFailure(
                            Error=entry["Error"],
                            Cause=entry.get("Cause"),
                            input=json.loads(entry["Input"]) if "Input" in entry else None,
                        )
                    )
    return found


__all__ = ["ChildFailure", "ResultWriterDetails", "failures", "outputs"]
