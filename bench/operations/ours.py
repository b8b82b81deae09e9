"""Ours: each operation through sluice's HTTP API, on the embedded AWS, in one process.

Runs in a subprocess of its own (``run.py --worker ours``): ``sluice local`` in-process
with a pool of one Lambda worker process per core, as the other benchmarks run it.
Off the clock: sign in, upload and ingest the three inputs and their first 1,000 rows
each, a session holding them.
Then, for each operation, first on the 1,000-row inputs (its floor: what its states,
requests and records cost whatever the data), then **from the POST of the request to
the moment the Finish step recorded it COMPLETED** (its ``finished_at``; GET is polled
every 0.2 s until it says so).
Its CPU time is every process's of the tree (moto's AWS, the API's and the steps' workers,
the polls), from the POST to the moment the poll saw COMPLETED: under load it swings far
less than a wall time does.
Before each operation every process's peak RSS is reset (``/proc/PID/clear_refs``), and
read after it, so each operation's peak is its own: the largest of any one process (a
Lambda worker, or the main process, which holds moto's S3, DynamoDB and Step Functions).
With ``--at-rest`` the reset waits for the system to be at rest first (each idle worker,
then the main process, gives back what its last work left: ``LocalSystem.at_rest``), as
it is when a request comes after a pause: the peaks are then the operation's own, and
its steps fault their heap in again. Without it, an operation finds the heap the last
one kept, as in a run of requests. Each process's resident memory at the reset is
reported too (``rest_*_bytes``).
Off the clock again: each execution's Step Functions history (for the projection), the
inputs' typed Parquet parts (the peers read those) and ours' outputs' facts.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

from bench.aggregate.history import (
    count_transitions,
    definition,
    extract_spans,
    map_run_spans,
    map_tasks,
)
from bench.aggregate.ours import _copy_parts, _session, _upload, _wait_ready
from bench.operations.work import SORT_BY, request
from bench.workers import recorded_moment

POLL_SECONDS = 0.2
DEADLINE_SECONDS = 3600.0
CHUNK_BYTES = 64 * 1024 * 1024


def _process_tree(root: int) -> list[int]:
    """``root`` and every process below it (the Lambda worker pools)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def tree_cpu_seconds() -> float:
    """The CPU time (user and system, every thread) this process and every process below
    it have used so far: moto's AWS, the API's and the steps' workers."""
    tick = os.sysconf("SC_CLK_TCK")
    used = 0
    for pid in _process_tree(os.getpid()):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            used += int(fields[11]) + int(fields[12])  # utime, stime (stat's 14th, 15th)
    return used / tick


def reset_peaks() -> None:
    """Every process's peak RSS back to its current RSS (Linux's clear_refs 5)."""
    for pid in _process_tree(os.getpid()):
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/clear_refs").write_text("5")


def peaks(field: str = "VmHWM") -> dict[str, int]:
    """Each process's peak RSS since the last reset, in bytes: "main" and "worker <pid>"
    (``field="VmRSS"``: its resident memory now)."""
    found: dict[str, int] = {}
    me = os.getpid()
    for pid in _process_tree(me):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith(f"{field}:"):
                found["main" if pid == me else f"worker {pid}"] = int(line.split()[1]) * 1024
    return found


def _main_and_workers(found: dict[str, int], prefix: str) -> dict[str, int]:
    """The main process's figure and the largest worker's, under ``prefix``."""
    workers = [value for name, value in found.items() if name != "main"]
    return {
        f"{prefix}_main_bytes": found.get("main", 0),
        f"{prefix}_worker_bytes": max(workers, default=0),
    }


def _run(http: Any, api: str, session: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """POST the operation and poll it to its end: (seconds from the POST to the recorded
    end, the operation)."""
    began = time.perf_counter()
    started = http.post(
        f"{api}/sessions/{session}/operations",
        json={"name": name, "input_data": inputs},
        timeout=60,
    )
    if started.status_code >= 400:
        raise RuntimeError(f"{name}: {started.status_code} {started.text[:300]}")
    path = f"{api}/sessions/{session}/operations/{started.json()['id']}"
    while True:
        operation: dict[str, Any] = http.get(path, timeout=60).json()
        if operation["status"] in ("COMPLETED", "FAILED"):
            break
        if time.perf_counter() - began > DEADLINE_SECONDS:
            raise TimeoutError(f"{name} still running after {DEADLINE_SECONDS:.0f} s")
        time.sleep(POLL_SECONDS)
    ended = recorded_moment(operation.get("finished_at"))
    operation["seconds"] = ended - began
    return operation


def _history(system: Any, operation_id: str) -> list[dict[str, Any]]:
    """Every event of the operation's execution."""
    from sluice.aws import execution_arn
    from sluice.sessions.operation_models import run_name

    sfn = system.client("stepfunctions")
    machine = system.deployment.state_machines["run_operation"]
    execution = execution_arn(machine, run_name(operation_id))
    events: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        extra = {"nextToken": token} if token else {}
        page = sfn.get_execution_history(executionArn=execution, maxResults=1000, **extra)
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


def _facts(http: Any, api: str, operation: dict[str, Any], op: str) -> dict[str, Any]:
    """What the checks compare with the peers': a table's rows (and a sort's first keys),
    the bins' counts, describe's count of each column."""
    if operation["output"]["datasets"]:
        (dataset_id,) = operation["output"]["datasets"]
        found: dict[str, Any] = {
            "rows": http.get(f"{api}/datasets/{dataset_id}").json()["row_count"]
        }
        if op == "sort":
            page = http.get(
                f"{api}/datasets/{dataset_id}/rows", params={"num_rows": "1000"}, timeout=60
            ).json()
            found["first"] = [[str(r[k])[:10] for k in SORT_BY] for r in page["rows"]]
        return found
    data = operation["output"]["data"] or {}
    if op == "histogram":
        return {"counts": [b["count"] for b in data.get("bins", [])]}
    return {"counts": {c["name"]: c["count"] for c in data.get("columns", [])}}


FLOOR_ROWS = 1000
"""Each operation runs first on the first this many rows of its inputs: what it costs
whatever the data (its states, requests and records), the floor under its time."""


def _first_rows(source: Path, target: Path) -> Path:
    """The header and the first ``FLOOR_ROWS`` rows of ``source``, written to ``target``."""
    with source.open("rb") as full, target.open("wb") as head:
        for _ in range(FLOOR_ROWS + 1):
            line = full.readline()
            if not line:
                break
            head.write(line)
    return target


def worker_ours(
    inputs: dict[str, Path], out: Path, operations: list[str], at_rest: bool = False
) -> dict[str, Any]:
    """Ingest the inputs, then time each operation; see the module's docstring."""
    from sluice.local.system import LocalOptions, LocalSystem

    largest = max(p.stat().st_size for p in inputs.values())
    system = LocalSystem(
        LocalOptions(
            port=0,
            chunk_bytes=CHUNK_BYTES,
            max_upload_bytes=max(5 * 1024**3, 2 * largest),
            demo=True,
            lambda_processes=os.cpu_count() or 1,
        )
    ).start()
    try:
        api = system.api_url
        http = _session(api)
        ids, datasets, ingest_s = {}, {}, {}
        small_ids = {}
        for name, path in inputs.items():
            began = time.perf_counter()
            ids[name] = _upload(http, api, path)
            datasets[name] = _wait_ready(http, api, ids[name])
            ingest_s[name] = time.perf_counter() - began
            if datasets[name]["status"] != "ready":
                return {"error": f"{name}: {datasets[name]['status']}: {datasets[name]['error']}"}
            small = _first_rows(path, out / f"{name}-{FLOOR_ROWS}.csv")
            small_ids[name] = _upload(http, api, small)
            if _wait_ready(http, api, small_ids[name])["status"] != "ready":
                return {"error": f"{name}'s first {FLOOR_ROWS} rows did not ingest"}
        created = http.post(
            f"{api}/sessions",
            json={
                "name": "bench",
                "input_data": [
                    {"type": "dataset", "id": i} for i in [*ids.values(), *small_ids.values()]
                ],
            },
            timeout=60,
        )
        session = created.json()["id"]
        results: dict[str, Any] = {}
        s3 = system.client("s3")
        tasks = map_tasks(definition("run_operation"))

        def read_json(bucket: str, key: str) -> Any:
            return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

        for op in operations:
            floor = _run(http, api, session, *request(op, small_ids))
            name, inputs_data = request(op, ids)
            if at_rest:
                system.at_rest(within_s=120)
            rest = _main_and_workers(peaks("VmRSS"), "rest")
            reset_peaks()
            cpu = tree_cpu_seconds()
            operation = _run(http, api, session, name, inputs_data)
            cpu = tree_cpu_seconds() - cpu
            found = peaks()
            results[op] = {
                "seconds": operation["seconds"],
                "cpu_seconds": cpu,
                "floor_seconds": floor["seconds"] if floor["status"] == "COMPLETED" else None,
                "status": operation["status"],
                "message": operation["message"],
                "parts": operation.get("parts"),
                "buckets": operation.get("buckets"),
                "peak_rss_bytes": max(found.values()),
                **_main_and_workers(found, "peak"),
                **rest,
                **(_facts(http, api, operation, op) if operation["status"] == "COMPLETED" else {}),
            }
            events = _history(system, operation["id"])
            # A Distributed Map's children are not in the parent's history: their spans
            # come from the results its ResultWriter wrote.
            children = map_run_spans("operation", events, tasks, read_json)
            results[op]["spans"] = extract_spans("operation", events) + children
            results[op]["executions"] = count_transitions(events)
        folders = {}
        for name, dataset in datasets.items():
            parts, typed_bytes = _copy_parts(system, dataset, out / "parts" / name)
            folders[name] = {"parts": parts, "typed_bytes": typed_bytes}
        return {
            "operations": results,
            "inputs": {
                name: {
                    "csv_bytes": inputs[name].stat().st_size,
                    "rows": datasets[name]["row_count"],
                    "chunks": datasets[name]["chunk_count"],
                    "ingest_seconds": ingest_s[name],
                    **folders[name],
                }
                for name in inputs
            },
            "parts_folder": str(out / "parts"),
        }
    finally:
        system.stop()
