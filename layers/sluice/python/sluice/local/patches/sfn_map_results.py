"""A Distributed Map's ``ResultWriter`` (``arn:aws:states:::s3:putObject``), as AWS
writes it: under ``<Prefix>/<map run id>/``, ``manifest.json`` naming the result files by
status, and ``SUCCEEDED_0.json``, ``FAILED_0.json`` ... (only the statuses that have
children), each a JSON array of one entry per child: its execution ARN and name, its
``Input`` and ``Output`` as JSON texts (``Error`` and ``Cause`` for a failed one), status
and dates (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html).
The Map Run writes them (:func:`write_results`), for a Map Run that fails too, so a failed
child's error can be read back; the writer's own evaluation then makes the state's result
``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}`` (:func:`details_only`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (  # noqa: E501
    DistributedIterationComponent,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.result_writer_decl import (  # noqa: E501
    ResultWriter,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap

from sluice.local.patches.sfn_map_children import Child
from sluice.local.patches.sfn_service_client import service_client

_lock = threading.Lock()
_written: dict[str, tuple[str, str]] = {}
"""Map Run ARN -> (bucket, manifest key) written by the Map Run, for the state's result."""


def _date(moment: datetime | None) -> str | None:
    return (
        None if moment is None else moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def result_entry(child: Child, child_machine_arn: str) -> dict[str, Any]:
    """A child as a ResultWriter file lists it (Transformation NONE, AWS's default when
    exporting): input and output as JSON texts, with the execution's metadata."""
    execution_arn = child_machine_arn.replace(":stateMachine:", ":execution:", 1)
    entry: dict[str, Any] = {
        "ExecutionArn": f"{execution_arn}:{child.name}",
        "Input": json.dumps(child.input, separators=(",", ":")),
        "InputDetails": {"Included": True},
        "Name": child.name,
    }
    if child.status == "SUCCEEDED":
        entry["Output"] = json.dumps(child.output, separators=(",", ":"))
        entry["OutputDetails"] = {"Included": True}
    else:
        if child.error is not None:
            entry["Error"] = child.error
        if child.cause is not None:
            entry["Cause"] = child.cause
    entry.update(
        {
            "RedriveCount": 0,
            "RedriveStatus": "NOT_REDRIVABLE",
            "StartDate": _date(child.start),
            "StateMachineArn": child_machine_arn,
            "Status": child.status,
            "StopDate": _date(child.stop),
        }
    )
    return entry


def _folder(prefix: str, map_run_arn: str) -> str:
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return f"{prefix}{map_run_arn.split(':')[-1]}/"


def write_results(
    state: StateMap, env: Any, map_input: Any, record: Any, children: list[Child]
) -> None:
    """Write the Map Run's result files and manifest where ``state``'s ResultWriter says
    (its parameters evaluated against ``map_input``, the state's input)."""
    writer = state.result_writer
    assert writer is not None
    env.stack.append(map_input)
    writer.parargs.eval(env=env)
    parameters = env.stack.pop()
    env.stack.pop()
    writer.resource.eval(env=env)
    runtime = env.stack.pop()
    bucket = parameters["Bucket"]
    folder = _folder(parameters.get("Prefix", ""), record.map_run_arn)
    s3 = service_client(region=runtime.region, service="s3")
    files: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    by_status: dict[str, list[Child]] = {}
    for child in children:
        status = "FAILED" if child.status in ("TIMED_OUT", "ABORTED") else child.status
        by_status.setdefault(status, []).append(child)
    for status, listed in sorted(by_status.items()):
        key = f"{folder}{status}_0.json"
        body = json.dumps([result_entry(c, record.map_state_machine_arn) for c in listed]).encode()
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        files[status].append({"Key": key, "Size": len(body)})
    manifest = {"DestinationBucket": bucket, "MapRunArn": record.map_run_arn, "ResultFiles": files}
    key = f"{folder}manifest.json"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(manifest).encode())
    with _lock:
        _written[record.map_run_arn] = (bucket, key)


def details_only(_: Callable[..., None]) -> Callable[..., None]:
    """``ResultWriter._eval_body`` made to answer what the Map Run wrote, writing nothing."""

    def details(self: ResultWriter, env: Any) -> None:
        # moto evaluated the writer's Parameters against the children's outputs (the top
        # of the stack by now); the Map Run wrote the files with the state's input.
        env.stack.pop()  # the children's outputs, already written
        record = getattr(env, _RECORD)
        with _lock:
            written = _written.pop(record.map_run_arn, None)
        details: dict[str, Any] = {"MapRunArn": record.map_run_arn}
        if written is not None:  # none when the execution was stopped
            details["ResultWriterDetails"] = {"Bucket": written[0], "Key": written[1]}
        env.stack.append(details)

    return details


_RECORD = "_sluice_map_run_record"
"""Where the environment of a Map state keeps its Map Run's record, for the writer."""


def keeping_the_record(eval_body: Callable[..., None]) -> Callable[..., None]:
    """``DistributedIterationComponent._eval_body`` made to keep its Map Run's record on
    the environment, where the writer's evaluation finds it."""

    def recording(self: DistributedIterationComponent, env: Any) -> None:
        eval_input = env.stack[-1]
        setattr(env, _RECORD, eval_input.map_run_record)
        eval_body(self, env)

    return recording


__all__ = ["details_only", "keeping_the_record", "result_entry", "write_results"]
