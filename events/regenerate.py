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
from typing import Any

from sluice.aws import execution_arn
from sluice.catalog import CATALOG
from sluice.datasets.models import Dataset, SourceObject, utcnow
from sluice.datasets.repository import DatasetRepository
from sluice.local.system import LocalOptions, LocalSystem
from sluice.tasks.models import Task, TaskCreate
from sluice.tasks.repository import TaskRepository

HERE = Path(__file__).parent
OWNER = "11111111-2222-3333-4444-555555555555"
DATASET = "0123456789abcdef0123456789abcdef"
KEY = f"uploads/{OWNER}/{DATASET}/a1b2c3d4e5f6.csv"
TASK = "0123456789abcdef0123456789abcd01"
STEP_FILES = {
    "ingest_plan": "plan",
    "ingest_scan_chunk": "scan_chunk",
    "ingest_reconcile": "reconcile",
    "ingest_decide": "decide",
    "ingest_convert_chunk": "convert_chunk",
    "ingest_finish": "finish",
}
TASK_STEP_FILES = {
    "task_plan": "plan",
    "task_partial": "partial",
    "task_reduce": "reduce",
    "task_finish": "finish",
}


def _record_inputs(
    sfn: Any, arn: str, names: dict[str, str], files: dict[str, str], folder: Path
) -> None:
    """Write each step's first real input (from the execution history) as its sample."""
    history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    seen: set[str] = set()
    for event in history:
        details = event.get("taskScheduledEventDetails")
        if not details:
            continue
        parameters = json.loads(details["parameters"])
        step = names[parameters["FunctionName"]]
        payload = parameters["Payload"]
        if step == "ingest_scan_chunk" and payload["chunk"]["index"] != 1:
            continue
        if step in files and step not in seen:
            seen.add(step)
            (folder / f"{files[step]}.json").write_text(json.dumps(payload, indent=2) + "\n")
    missing = set(files) - seen
    assert not missing, missing


def _wait(sfn: Any, arn: str) -> None:
    status = "RUNNING"
    while status == "RUNNING":
        status = sfn.describe_execution(executionArn=arn)["status"]
    assert status == "SUCCEEDED", status


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
        deployment = system.deployment
        assert deployment is not None
        names = {v: k for k, v in deployment.functions.items()}
        machine = deployment.state_machines["ingest_dataset"]
        run = f"{DATASET}-a1b2c3d4e5f6-{hashlib.md5(body).hexdigest()[:24]}"
        arn = execution_arn(machine, run)
        _wait(sfn, arn)
        _record_inputs(sfn, arn, names, STEP_FILES, HERE / "ingest")
        _record_task(system, sfn, names)
        upload = json.loads((HERE / "on_upload" / "object_created.json").read_text())
        upload["Records"][0]["s3"]["object"].update(
            {"key": KEY, "size": len(body), "eTag": hashlib.md5(body).hexdigest()}
        )
        (HERE / "on_upload" / "object_created.json").write_text(json.dumps(upload, indent=2) + "\n")
        assert {f.name for f in CATALOG.functions} >= set(STEP_FILES) | set(TASK_STEP_FILES)
    finally:
        system.stop()


def _record_task(system: LocalSystem, sfn: Any, names: dict[str, str]) -> None:
    """Run the BMAT-style aggregation on the sample and record its steps' inputs."""
    dataset = DatasetRepository(os.environ["SLUICE_TABLE"]).get(OWNER, DATASET)
    now = utcnow()
    request = TaskCreate(
        group_by=["name"], aggregations=[{"column": "score", "op": "sum", "name": "score"}]
    )
    task = Task(
        id=TASK,
        owner=OWNER,
        dataset_id=DATASET,
        spec=request.spec(),
        output=request.output,
        created_at=now,
        updated_at=now,
        data_run=dataset.data_run,
        run=f"task-{TASK}",
    )
    TaskRepository(os.environ["SLUICE_TABLE"]).create(task)
    machine = system.deployment.state_machines["run_task"]  # type: ignore[union-attr]
    sfn.start_execution(
        stateMachineArn=machine,
        name=task.run,
        input=json.dumps({"task": {"owner": OWNER, "id": TASK}}),
    )
    arn = execution_arn(machine, task.run)
    _wait(sfn, arn)
    folder = HERE / "tasks"
    folder.mkdir(exist_ok=True)
    _record_inputs(sfn, arn, names, TASK_STEP_FILES, folder)


if __name__ == "__main__":
    main()
