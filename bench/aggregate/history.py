"""A state machine execution's history as spans: every Lambda task (scheduled ->
succeeded) with the few facts of its input and output that say how many bytes it handled.

A Distributed Map's children run in executions of their own, whose states are not in the
parent's history (in AWS as locally): ``map_run_spans`` reads their start and stop, input
and output from the results its ResultWriter wrote to S3, as AWS writes them
(https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from bench.aggregate.aws import map_stages


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(str(value)).timestamp()


def _payload(event: dict[str, Any]) -> dict[str, Any]:
    output = json.loads(event["taskSucceededEventDetails"].get("output") or "{}")
    payload = output.get("Payload", output)
    return payload if isinstance(payload, dict) else {}


def _facts(state: str, given: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """The small facts of a task's input and output the projection needs."""
    if state in ("ScanChunk", "RescanChunk"):
        part = payload.get("part") or {}
        return {
            "csv_bytes": int(payload.get("end", 0)) - int(payload.get("start", 0)),
            "key": part.get("key"),  # the typed part the scan wrote, if any
        }
    if state == "ConvertChunk":
        span = given.get("span") or {}
        return {
            "csv_bytes": int(span.get("last", 0)) - int(span.get("first", 0)),
            "key": payload.get("key"),
            "parquet_bytes": int(payload.get("bytes") or 0),
            "rows": int(payload.get("rows") or 0),
        }
    if state == "Partial":
        return {
            "key": (given.get("part") or {}).get("key"),
            "rows": payload.get("rows") or 0,
            "groups": payload.get("groups") or 0,
        }
    if state == "Reduce":
        files = payload.get("files") or []
        return {
            "bucket": payload.get("bucket"),
            "output_bytes": sum(int(f.get("bytes", 0)) for f in files),
            "rows": sum(int(f.get("rows", 0)) for f in files),
        }
    return {}


def extract_spans(kind: str, events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every task of one execution: ``{"phase": "<kind>.<State>", "scheduled", "succeeded",
    ...facts}``, times in epoch seconds. A task's TaskSucceeded event points back (by
    previousEventId) to its TaskStarted, TaskScheduled and the TaskStateEntered that
    names the state and holds its input."""
    by_id = {event["id"]: event for event in events}
    spans = []
    for event in events:
        if event["type"] != "TaskSucceeded":
            continue
        scheduled: float | None = None
        entered = event
        while entered["type"] != "TaskStateEntered":
            entered = by_id[entered["previousEventId"]]
            if entered["type"] == "TaskScheduled" and scheduled is None:
                scheduled = _epoch(entered["timestamp"])
        details = entered["stateEnteredEventDetails"]
        state = details["name"]
        given = json.loads(details.get("input") or "{}")
        spans.append(
            {
                "phase": f"{kind}.{state}",
                "scheduled": scheduled if scheduled is not None else _epoch(entered["timestamp"]),
                "succeeded": _epoch(event["timestamp"]),
                **_facts(state, given, _payload(event)),
            }
        )
    return spans


def count_transitions(events: Iterable[dict[str, Any]]) -> dict[str, int]:
    """State transitions (states entered: what Step Functions bills) and history events."""
    types = Counter(event["type"] for event in events)
    entered = sum(n for name, n in types.items() if name.endswith("StateEntered"))
    return {"transitions": entered, "events": sum(types.values())}


def _map_runs(events: Sequence[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(Map state name, its result: MapRunArn and ResultWriterDetails) of every Map Run."""
    by_id = {event["id"]: event for event in events}
    found = []
    for event in events:
        details = event.get("mapRunStartedEventDetails")
        if not details:
            continue
        entered = event
        while "stateEnteredEventDetails" not in entered:
            entered = by_id[entered["previousEventId"]]
        name = entered["stateEnteredEventDetails"]["name"]
        for later in events:
            exited = later.get("stateExitedEventDetails") or {}
            if later["id"] > event["id"] and exited.get("name") == name:
                result = _find_map_run(json.loads(exited.get("output") or "{}"), details)
                if result:
                    found.append((name, result))
                break
    return found


def _find_map_run(value: Any, details: dict[str, Any]) -> dict[str, Any] | None:
    """The object in a state's output that names this Map Run and its results."""
    if isinstance(value, dict):
        if value.get("MapRunArn") == details["mapRunArn"] and "ResultWriterDetails" in value:
            return value
        value = list(value.values())
    if isinstance(value, list):
        for inner in value:
            found = _find_map_run(inner, details)
            if found:
                return found
    return None


ITEM_FIELD = {"ConvertChunk": "span", "Partial": "part", "Reduce": "bucket"}
"""Where an item sits in the input of a Task state that takes one (ScanChunk's facts come
from its output)."""


def map_run_spans(
    kind: str,
    events: Sequence[dict[str, Any]],
    tasks: dict[str, str],
    read_json: Callable[[str, str], Any],
) -> list[dict[str, Any]]:
    """The Distributed Maps' children as spans, one per item, from the results their
    ResultWriter wrote (``read_json(bucket, key)``): a child's items run one after the
    other, so each gets an equal share of the child's start -> stop. ``tasks`` maps each
    Map state to the Task state its children run."""
    spans = []
    for name, result in _map_runs(events):
        details = result["ResultWriterDetails"]
        manifest = read_json(details["Bucket"], details["Key"])
        bucket = manifest.get("DestinationBucket", details["Bucket"])
        for listed in manifest["ResultFiles"].get("SUCCEEDED", []):
            for child in read_json(bucket, listed["Key"]):
                given = json.loads(child.get("Input") or "{}")
                output = json.loads(child.get("Output") or "null")
                batched = isinstance(given, dict) and "Items" in given
                items = given["Items"] if batched else [given]
                outputs = output if batched and isinstance(output, list) else [output]
                start, stop = _epoch(child["StartDate"]), _epoch(child["StopDate"])
                share = (stop - start) / max(1, len(items))
                task = tasks.get(name, name)
                if task == "Partial" and batched:
                    outputs = per_part(items, outputs)
                for index, (item, out) in enumerate(zip(items, outputs, strict=False)):
                    field_name = ITEM_FIELD.get(task)
                    shared = given.get("BatchInput", {}) if batched else {}
                    keep = isinstance(item, dict) and (not field_name or field_name in item)
                    wrapped = item if keep else {field_name or "item": item}
                    payload = out if isinstance(out, dict) else {}
                    spans.append(
                        {
                            "phase": f"{kind}.{task}",
                            "scheduled": start + index * share,
                            "succeeded": start + (index + 1) * share,
                            **_facts(task, {**shared, **wrapped}, payload),
                        }
                    )
    return spans


def per_part(items: Sequence[Any], outputs: Sequence[Any]) -> list[Any]:
    """A partial child's outputs, one per item: a buckets file holds a run of its parts
    (``parts``; ``part`` alone where it is one), whose rows and groups it shares among
    them, so each part's span counts its share."""
    shares: dict[Any, dict[str, Any]] = {}
    for out in outputs:
        if not isinstance(out, dict):
            continue
        parts = out.get("parts") or [out.get("part")]
        for part in parts:
            shares[part] = {
                **out,
                "rows": int(out.get("rows") or 0) / len(parts),
                "groups": int(out.get("groups") or 0) / len(parts),
            }
    return [shares.get(item.get("index") if isinstance(item, dict) else None) for item in items]


KINDS = {"ingest_dataset": "ingest", "run_task": "task"}


def children_spans(
    histories: dict[str, list[dict[str, Any]]], read_json: Callable[[str, str], Any]
) -> list[dict[str, Any]]:
    """Every Distributed Map child's items as spans ("ingest"/"task" -> parent events),
    read from the results the Maps' ResultWriters wrote (``map_run_spans``)."""
    machines = definitions()
    return [
        span
        for kind, events in histories.items()
        for span in map_run_spans(kind, events, map_tasks(machines[kind]), read_json)
    ]


def definition(name: str) -> dict[str, Any]:
    """A state machine's ASL definition, as the catalogue deploys it."""
    from sluice.catalog import CATALOG

    (machine,) = [m for m in CATALOG.state_machines if m.name == name]
    return dict(json.loads(machine.definition_path.read_text()))


def definitions() -> dict[str, dict[str, Any]]:
    """The ingest's and the task's ASL definitions ("ingest"/"task" -> definition)."""
    return {kind: definition(name) for name, kind in KINDS.items()}


def map_tasks(definition: dict[str, Any]) -> dict[str, str]:
    """Each Map state's name -> the Task state its children run."""
    return {stage.name: task for task, stage in map_stages(definition).items()}
