"""How catalogue names become construct ids and output names."""

from __future__ import annotations


def pascal(name: str) -> str:
    """``ingest_scan_chunk`` -> ``IngestScanChunk``: catalogue names as CDK construct ids.

    Construct ids feed CloudFormation logical ids, so they must stay stable: changing
    this function renames (and so replaces) every resource in a deployed stack.
    """
    return "".join(part[:1].upper() + part[1:] for part in name.replace("-", "_").split("_"))
