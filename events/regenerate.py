"""Regenerate the recorded sample events from a real ingest of events/ingest/object.csv.

Run: .venv/bin/python -m events.regenerate [--out DIR] [--only GROUP ...]
It starts the embedded AWS, ingests the sample file in 32-byte chunks as the sample
owner and dataset, runs one aggregation task on it, and writes each step's first real
input (from the execution history; a Distributed Map's child's, a batch, from the
results its ResultWriter wrote) as that step's sample event. The groups are
``ingest`` (events/ingest/*.json but load_layout and finish_failure, which no
successful run produces), ``tasks`` (events/tasks/*.json), ``operations`` (a session's
group-by aggregate of the sample: events/operations/*.json but finish_failure) and
``on_upload`` (events/on_upload/object_created.json, updated to the sample object).

Every id, key and timestamp is fixed (Map Runs are numbered), the file's ETag is its
MD5, and each Map runs its items one at a time in their listed order (a Distributed
Map runs one child, whose batch is every item; a scan types its part by the counts of
the scans that finished before it), so two runs write byte-identical files: a diff
after regenerating is a real change of a handler's input, never noise.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import os
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sluice.aws import execution_arn
from sluice.catalog import CATALOG
from sluice.datasets.models import Dataset, SourceObject
from sluice.datasets.repository import DatasetRepository
from sluice.datasets.tickets import ticket_for
from sluice.local.system import LocalOptions, LocalSystem
from sluice.operations.catalogue import catalogue
from sluice.operations.validation import canonical, check_form
from sluice.sessions import cache
from sluice.sessions.models import DatasetInput, Session
from sluice.sessions.operation_models import SessionOperation, run_name
from sluice.sessions.references import input_dataset
from sluice.sessions.repository import OperationRepository, SessionRepository
from sluice.store import objects
from sluice.tasks.models import Task, TaskCreate
from sluice.tasks.repository import TaskRepository

HERE = Path(__file__).parent
OWNER = "11111111-2222-3333-4444-555555555555"
DATASET = "0123456789abcdef0123456789abcdef"
KEY = f"uploads/{OWNER}/{DATASET}/a1b2c3d4e5f6.csv"
TASK = "0123456789abcdef0123456789abcd01"
UPLOADS = "sluice-uploads"
CHUNK_BYTES = 32
# The moment the samples are recorded at: the on_upload sample's eventTime, so the
# records the run writes carry the same time on every run.
RECORDED_AT = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)
STEP_FILES = {
    "ingest_prepare": "prepare",
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
    "task_gather": "gather",
    "task_reduce": "reduce",
    "task_finish": "finish",
}
OPERATION_STEP_FILES = {
    "operation_plan": "plan",
    "operation_part": "part",
    "operation_bucket": "bucket",
    "operation_finish": "finish",
}
SESSION = "0123456789abcdef0123456789abcd20"
OPERATION = "0123456789abcdef0123456789abcd21"
OPERATION_OUTPUT = "0123456789abcdef0123456789abcd22"
GROUPS = ("ingest", "tasks", "operations", "on_upload")
UPLOAD_EVENT = Path("on_upload") / "object_created.json"


def dump(payload: Any) -> str:
    """A sample event's file text: two-space JSON in the payload's own key order."""
    return json.dumps(payload, indent=2) + "\n"


def ingest_run(body: bytes) -> str:
    """The ingest execution's name for the sample object, as on_upload derives it."""
    return f"{DATASET}-a1b2c3d4e5f6-{hashlib.md5(body).hexdigest()[:24]}"


def upload_event(template: dict[str, Any], body: bytes) -> dict[str, Any]:
    """The S3 notification ``template`` (its first record), pointed at the sample object."""
    event = json.loads(json.dumps(template))
    event["Records"][0]["s3"]["object"].update(
        {"key": KEY, "size": len(body), "eTag": hashlib.md5(body).hexdigest()}
    )
    return event


@contextlib.contextmanager
def one_map_item_at_a_time() -> Iterator[None]:
    """Every Map state run by the embedded Step Functions (in this process) with
    MaxConcurrency 1: its items then run in list order, whatever the threads do."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_map import max_concurrency

    declared = max_concurrency.MaxConcurrency
    original = declared._eval_max_concurrency
    setattr(declared, "_eval_max_concurrency", lambda self, env: 1)  # noqa: B010
    try:
        yield
    finally:
        setattr(declared, "_eval_max_concurrency", original)  # noqa: B010


DISTRIBUTED_STEPS = {
    "ScanChunks": "ingest_scan_chunk",
    "ConvertChunks": "ingest_convert_chunk",
    "Partials": "task_partial",
    "Reduces": "task_reduce",
    "Parts": "operation_part",
    "Buckets": "operation_bucket",
}
"""The step each Distributed Map's children run: their inputs are in its ResultWriter's
files, not in the execution's history (a child has a history of its own)."""


@contextlib.contextmanager
def numbered_map_runs() -> Iterator[None]:
    """Map Runs numbered 1, 2 ... (moto draws random ids), so that the keys their
    ResultWriters write, which the sample events name, are the same on every run."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (  # noqa: E501
        map_run_record,
    )

    counter = itertools.count(1)
    drawn = map_run_record.long_uid
    setattr(map_run_record, "long_uid", lambda: f"00000000-0000-0000-0000-{next(counter):012d}")  # noqa: B010
    try:
        yield
    finally:
        setattr(map_run_record, "long_uid", drawn)  # noqa: B010


def _children_inputs(history: list[dict[str, Any]], results: str) -> list[tuple[str, Any]]:
    """(step, input) of every child of the execution's Distributed Maps, in their order;
    their ResultWriters wrote under ``results`` (the ingest's work/, the tasks' tasks/)."""
    bucket = os.environ["SLUICE_DATA_BUCKET"]
    found: list[tuple[str, Any]] = []
    entered = ""
    for event in history:
        if "stateEnteredEventDetails" in event:
            entered = event["stateEnteredEventDetails"]["name"]
        started = event.get("mapRunStartedEventDetails")
        if not started or entered not in DISTRIBUTED_STEPS:
            continue
        run_id = started["mapRunArn"].split(":")[-1]
        (manifest,) = [
            key for key in objects.list_keys(bucket, results) if f"/{run_id}/manifest" in key
        ]
        listed = objects.get_json(bucket, manifest)["ResultFiles"]["SUCCEEDED"]
        for result_file in listed:
            for entry in objects.get_json(bucket, result_file["Key"]):
                found.append((DISTRIBUTED_STEPS[entered], json.loads(entry["Input"])))
    return found


def _record_inputs(
    sfn: Any,
    arn: str,
    names: dict[str, str],
    files: dict[str, str],
    folder: Path | None,
    results: str = "work/",
) -> None:
    """Write each step's first real input (from the execution history, or for a
    Distributed Map's children from its results) as its sample; ``folder`` None checks
    that every step ran but writes nothing."""
    history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    inputs: list[tuple[str, Any]] = []
    for event in history:
        details = event.get("taskScheduledEventDetails")
        if details:
            parameters = json.loads(details["parameters"])
            inputs.append((names[parameters["FunctionName"]], parameters["Payload"]))
    inputs += _children_inputs(history, results)
    seen: set[str] = set()
    for step, payload in inputs:
        if step in files and step not in seen:
            seen.add(step)
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{files[step]}.json").write_text(dump(payload))
    missing = set(files) - seen
    if missing:
        raise RuntimeError(f"steps never scheduled: {sorted(missing)}")


def _wait(sfn: Any, arn: str) -> None:
    status = "RUNNING"
    while status == "RUNNING":
        status = sfn.describe_execution(executionArn=arn)["status"]
    if status != "SUCCEEDED":
        raise RuntimeError(f"{arn} ended {status}")


def regenerate(out: Path = HERE, groups: Sequence[str] = GROUPS) -> None:
    """Run the sample ingest and task and write the sample events of ``groups`` under ``out``."""
    unknown = set(groups) - set(GROUPS)
    if unknown:
        raise ValueError(f"unknown groups {sorted(unknown)}; known: {', '.join(GROUPS)}")
    recorded = set(STEP_FILES) | set(TASK_STEP_FILES) | set(OPERATION_STEP_FILES)
    if not {f.name for f in CATALOG.functions} >= recorded:
        raise RuntimeError("a recorded step is no longer in the catalogue")
    body = (HERE / "ingest" / "object.csv").read_bytes()
    # The S3 notification sample needs only the file, not a run.
    if {"ingest", "tasks", "operations"} & set(groups):
        with one_map_item_at_a_time(), numbered_map_runs():
            _run(body, out, groups)
    if "on_upload" in groups:
        template = json.loads((HERE / UPLOAD_EVENT).read_text())
        (out / UPLOAD_EVENT).parent.mkdir(parents=True, exist_ok=True)
        (out / UPLOAD_EVENT).write_text(dump(upload_event(template, body)))


def _run(body: bytes, out: Path, groups: Sequence[str]) -> None:
    """Ingest ``body`` as the sample dataset, then run the sample task, recording both."""
    system = LocalSystem(LocalOptions(port=0, chunk_bytes=CHUNK_BYTES, demo=False)).start()
    # One child per Distributed Map, its batch in list order, as the inline Maps' items.
    os.environ["SLUICE_MAP_CONCURRENCY"] = "1"
    try:
        DatasetRepository(os.environ["SLUICE_TABLE"]).create(
            Dataset(
                id=DATASET,
                owner=OWNER,
                name="sample",
                path="samples",
                created_at=RECORDED_AT,
                updated_at=RECORDED_AT,
                source=SourceObject(bucket=UPLOADS, key=KEY),
                # Its upload's ticket, as the API records it, so that on_upload takes the file.
                upload_tickets={Path(KEY).stem: ticket_for("post", 3600, RECORDED_AT)},
            )
        )
        system.client("s3").put_object(Bucket=UPLOADS, Key=KEY, Body=body)
        sfn = system.client("stepfunctions")
        deployment = system.deployment
        assert deployment is not None
        names = {v: k for k, v in deployment.functions.items()}
        machine = deployment.state_machines["ingest_dataset"]
        arn = execution_arn(machine, ingest_run(body))
        _wait(sfn, arn)
        folder = out / "ingest" if "ingest" in groups else None
        _record_inputs(sfn, arn, names, STEP_FILES, folder)
        if "tasks" in groups:
            # The task's Map Runs numbered from 1 again, as test_sample_events runs it.
            with numbered_map_runs():
                _record_task(system, sfn, names, out / "tasks")
        if "operations" in groups:
            with numbered_map_runs():
                _record_operation(system, sfn, names, out / "operations")
    finally:
        system.stop()


def _record_task(system: LocalSystem, sfn: Any, names: dict[str, str], folder: Path) -> None:
    """Run the BMAT-style aggregation on the sample and record its steps' inputs."""
    dataset = DatasetRepository(os.environ["SLUICE_TABLE"]).get(OWNER, DATASET)
    request = TaskCreate(
        group_by=["name"], aggregations=[{"column": "score", "op": "sum", "name": "score"}]
    )
    task = Task(
        id=TASK,
        owner=OWNER,
        dataset_id=DATASET,
        spec=request.spec(),
        output=request.output,
        created_at=RECORDED_AT,
        updated_at=RECORDED_AT,
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
    _record_inputs(sfn, arn, names, TASK_STEP_FILES, folder, "tasks/")


def _record_operation(system: LocalSystem, sfn: Any, names: dict[str, str], folder: Path) -> None:
    """Run a group-by aggregate of the sample in a session (its Parts and Buckets Maps)
    and record its steps' inputs; the record made as the API makes it."""
    table = os.environ["SLUICE_TABLE"]
    dataset = DatasetRepository(table).get(OWNER, DATASET)
    chosen = catalogue()["group_by_aggregate"]
    item = {"type": "dataset", "id": DATASET}
    request = {
        "dataset": item,
        "group_by": ["name"],
        "aggregations": [{"column": "score", "op": "sum", "name": "score"}],
    }
    inputs = canonical(chosen, check_form(chosen, request))
    read = {"dataset": [input_dataset(dataset)]}
    SessionRepository(table).create(
        Session(
            id=SESSION,
            owner=OWNER,
            name="sample",
            input_data=[DatasetInput.model_validate(item)],
            created_at=RECORDED_AT,
            updated_at=RECORDED_AT,
        )
    )
    OperationRepository(table).create(
        SessionOperation(
            id=OPERATION,
            owner=OWNER,
            session_id=SESSION,
            name=chosen.name,
            input_data=request,
            created_at=RECORDED_AT,
            updated_at=RECORDED_AT,
            cache_key=cache.cache_key(chosen.name, chosen.inputs, inputs, read),
            inputs=inputs,
            datasets=read,
            output_dataset=OPERATION_OUTPUT,
            result_of=OPERATION,
        )
    )
    machine = system.deployment.state_machines["run_operation"]  # type: ignore[union-attr]
    ref = {"owner": OWNER, "id": OPERATION, "output_dataset": OPERATION_OUTPUT}
    sfn.start_execution(
        stateMachineArn=machine, name=run_name(OPERATION), input=json.dumps({"operation": ref})
    )
    arn = execution_arn(machine, run_name(OPERATION))
    _wait(sfn, arn)
    _record_inputs(sfn, arn, names, OPERATION_STEP_FILES, folder, "operations/")


def main(argv: Sequence[str] | None = None) -> None:
    """The command line: ``--out`` a folder other than events/, ``--only`` some groups."""
    parser = argparse.ArgumentParser(
        prog="python -m events.regenerate",
        description="Record the sample events from a real ingest and task on the embedded AWS.",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=HERE,
        help="folder to write <group>/<step>.json under (default: events/ itself)",
    )
    parser.add_argument(
        "--only",
        choices=GROUPS,
        action="append",
        help="write only this group; repeat for several (default: all)",
    )
    args = parser.parse_args(argv)
    regenerate(args.out, tuple(args.only or GROUPS))


if __name__ == "__main__":
    main()
