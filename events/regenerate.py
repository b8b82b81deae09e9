"""Regenerate events/ingest/*.json from a real ingest of events/ingest/object.csv.

Run: .venv/bin/python -m events.regenerate
It starts the embedded AWS, ingests the sample file in 32-byte chunks as the sample
owner and dataset, and writes each step's first real input (from the execution
history) as that step's sample event.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from sluice.catalog import CATALOG
from sluice.datasets.models import Dataset, SourceObject, utcnow
from sluice.datasets.repository import DatasetRepository
from sluice.local.system import LocalOptions, LocalSystem

HERE = Path(__file__).parent
OWNER = "11111111-2222-3333-4444-555555555555"
DATASET = "0123456789abcdef0123456789abcdef"
KEY = f"uploads/{OWNER}/{DATASET}/a1b2c3d4e5f6.csv"
STEP_FILES = {
    "ingest_plan": "plan",
    "ingest_scan_chunk": "scan_chunk",
    "ingest_hash": "hash_object",
    "ingest_reconcile": "reconcile",
    "ingest_decide": "decide",
    "ingest_convert_chunk": "convert_chunk",
    "ingest_finish": "finish",
}


def main() -> None:
    body = (HERE / "ingest" / "object.csv").read_bytes()
    system = LocalSystem(LocalOptions(port=0, chunk_bytes=32, demo=False)).start()
    try:
        repo = DatasetRepository(os.environ["SLUICE_TABLE"])
        now = utcnow()
        repo.create(
            Dataset(
                id=DATASET,
                owner=OWNER,
                name="sample",
                path="samples",
                created_at=now,
                updated_at=now,
                source=SourceObject(bucket="sluice-uploads", key=KEY),
            )
        )
        system.client("s3").put_object(Bucket="sluice-uploads", Key=KEY, Body=body)
        sfn = system.client("stepfunctions")
        machine = system.deployment.state_machines["ingest_dataset"]  # type: ignore[union-attr]
        run = f"{DATASET}-a1b2c3d4e5f6-{hashlib.md5(body).hexdigest()[:24]}"
        arn = machine.replace(":stateMachine:", ":execution:") + f":{run}"
        waiter_status = "RUNNING"
        while waiter_status == "RUNNING":
            waiter_status = sfn.describe_execution(executionArn=arn)["status"]
        assert waiter_status == "SUCCEEDED", waiter_status
        names = {v: k for k, v in system.deployment.functions.items()}  # type: ignore[union-attr]
        seen: set[str] = set()
        history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        for event in history:
            details = event.get("taskScheduledEventDetails")
            if not details:
                continue
            parameters = json.loads(details["parameters"])
            step = names[parameters["FunctionName"]]
            payload = parameters["Payload"]
            if step == "ingest_scan_chunk" and payload["chunk"]["index"] != 1:
                continue
            if step in STEP_FILES and step not in seen:
                seen.add(step)
                target = HERE / "ingest" / f"{STEP_FILES[step]}.json"
                target.write_text(json.dumps(payload, indent=2) + "\n")
        missing = set(STEP_FILES) - seen
        assert not missing, missing
        upload = json.loads((HERE / "on_upload" / "object_created.json").read_text())
        upload["Records"][0]["s3"]["object"].update(
            {"key": KEY, "size": len(body), "eTag": hashlib.md5(body).hexdigest()}
        )
        (HERE / "on_upload" / "object_created.json").write_text(json.dumps(upload, indent=2) + "\n")
        assert {f.name for f in CATALOG.functions} >= set(STEP_FILES)
    finally:
        system.stop()


if __name__ == "__main__":
    main()
