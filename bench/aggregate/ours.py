"""Ours: the whole BMAT path through sluice's HTTP API, on the embedded AWS, in one process.

Runs in a subprocess of its own (``run.py --worker ours``), so its peak RSS is the whole
local system's: moto (S3, DynamoDB, Step Functions, ...), every Lambda (in-process), the
uploader, the pollers and the downloads.

upload (streamed presigned POST) -> ingest (until the dataset is ready) -> task (POST
.../tasks until GET /tasks/{id}/result answers 200) -> download every output file. Then,
off the clock: the task's record, both executions' Step Functions history, and a copy of
the typed Parquet parts for "the task alone" in DuckDB.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.aggregate.history import children_spans, count_transitions, extract_spans
from bench.workers import recorded_moment

if TYPE_CHECKING:
    import numpy as np

POLL_SECONDS = float(os.environ.get("BENCH_POLL_S", 0.5))
DEADLINE_SECONDS = float(os.environ.get("BENCH_READY_DEADLINE_S", 3600))
PRESET = "bmat_plays_per_song_per_day"
MAX_FILE_BYTES = 64 * 1024 * 1024
DOWNLOADS_AT_ONCE = 4
DOWNLOAD_BLOCK = 1024 * 1024


class Clock:
    """Named moments, in seconds since it started."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.marks: dict[str, float] = {}

    def mark(self, name: str) -> float:
        self.marks[name] = time.perf_counter()
        return self.marks[name]

    def mark_recorded(self, name: str, recorded: str | None) -> float:
        """Mark the moment the system recorded (see ``bench.workers.recorded_moment``)."""
        self.marks[name] = recorded_moment(recorded)
        return self.marks[name]

    def between(self, first: str, last: str) -> float:
        return self.marks[last] - self.marks[first]


def _session(api: str) -> Any:
    """A requests session signed in as the demo user (its ID token, as API Gateway wants)."""
    import requests
    from sluice.local.system import DEMO_PASSWORD, DEMO_USER

    from bench.ingest.run import _check

    http = requests.Session()
    tokens = http.post(
        f"{api}/auth/token", json={"username": DEMO_USER, "password": DEMO_PASSWORD}, timeout=60
    )
    _check(tokens)
    http.headers["Authorization"] = f"Bearer {tokens.json()['id_token']}"
    return http


def _upload(http: Any, api: str, csv: Path) -> str:
    """POST /datasets, then stream the file to its presigned POST; the dataset's id."""
    import requests

    from bench.ingest.run import MultipartBody, _check

    created = http.post(
        f"{api}/datasets",
        json={"name": csv.stem, "path": "bench", "description": "aggregate benchmark"},
        timeout=60,
    )
    _check(created)
    upload = created.json()["upload"]
    body = MultipartBody(upload["fields"], csv)
    try:
        posted = requests.post(
            upload["url"], data=body, headers={"Content-Type": body.content_type}, timeout=3600
        )
    finally:
        body.close()
    _check(posted)
    return str(created.json()["dataset"]["id"])


def _wait_ready(http: Any, api: str, dataset_id: str) -> dict[str, Any]:
    """Poll GET /datasets/{id} until it is ready (or failed)."""
    from bench.ingest.run import _check

    began = time.perf_counter()
    while True:
        answer = http.get(f"{api}/datasets/{dataset_id}", timeout=60)
        _check(answer)
        dataset: dict[str, Any] = answer.json()
        if dataset["status"] in ("ready", "failed", "stopped", "duplicate"):
            return dataset
        if time.perf_counter() - began > DEADLINE_SECONDS:
            raise TimeoutError(f"dataset not ready after {DEADLINE_SECONDS:.0f} s: {dataset}")
        time.sleep(POLL_SECONDS)


def _run_task(http: Any, api: str, dataset_id: str) -> tuple[str, dict[str, Any], int]:
    """POST the BMAT preset, then poll its result until 200: (task id, result, 425 count)."""
    from bench.ingest.run import _check

    started = http.post(
        f"{api}/datasets/{dataset_id}/tasks",
        json={"preset": PRESET, "output": {"format": "csv", "max_file_bytes": MAX_FILE_BYTES}},
        timeout=60,
    )
    _check(started)
    task_id = str(started.json()["id"])
    too_early = 0
    began = time.perf_counter()
    while True:
        answer = http.get(f"{api}/tasks/{task_id}/result", timeout=60)
        if answer.status_code != 425:
            _check(answer)  # 406 names why the task failed
            return task_id, answer.json(), too_early
        too_early += 1
        if time.perf_counter() - began > DEADLINE_SECONDS:
            raise TimeoutError(f"task {task_id} still running after {DEADLINE_SECONDS:.0f} s")
        time.sleep(POLL_SECONDS)


def _download(result: dict[str, Any], folder: Path) -> list[str]:
    """Every output file, streamed from its presigned URL into ``folder``, four at a time
    (as ``aws s3 cp --recursive`` would, with its default of ten)."""
    import requests

    folder.mkdir(parents=True, exist_ok=True)

    def fetch(output: dict[str, Any]) -> str:
        path = folder / output["name"]
        with requests.get(output["url"], stream=True, timeout=600) as answer:
            answer.raise_for_status()
            with path.open("wb") as sink:
                for block in answer.iter_content(DOWNLOAD_BLOCK):
                    sink.write(block)
        return str(path)

    with ThreadPoolExecutor(max_workers=DOWNLOADS_AT_ONCE) as pool:
        return list(pool.map(fetch, result["output_files"]))


def _histories(system: Any) -> dict[str, list[dict[str, Any]]]:
    """Every event of the ingest and task executions ("ingest"/"task" -> events)."""
    sfn = system.client("stepfunctions")
    kinds = {"ingest_dataset": "ingest", "run_task": "task"}
    histories: dict[str, list[dict[str, Any]]] = {}
    for name, arn in system.deployment.state_machines.items():
        if name not in kinds:
            continue
        executions = sfn.list_executions(stateMachineArn=arn)["executions"]
        for execution in executions:  # one each in this run
            events: list[dict[str, Any]] = []
            token: str | None = None
            while True:
                extra = {"nextToken": token} if token else {}
                page = sfn.get_execution_history(
                    executionArn=execution["executionArn"], maxResults=1000, **extra
                )
                events += page["events"]
                token = page.get("nextToken")
                if not token:
                    break
            histories[kinds[name]] = events
    return histories


def _copy_parts(system: Any, dataset: dict[str, Any], folder: Path) -> tuple[int, int]:
    """Copy the dataset's typed Parquet parts out of the embedded S3: (parts, bytes)."""
    bucket = os.environ["SLUICE_DATA_BUCKET"]
    s3 = system.client("s3")
    folder.mkdir(parents=True, exist_ok=True)
    run = dataset["data_run"] if dataset.get("data_run") else dataset["ingest_run"]
    keys = [
        (item["Key"], item["Size"])
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="datasets/")
        for item in page.get("Contents", [])
        # A run's parts: datasets/<owner>/<id>/<run>/parts/part-<n>.parquet (or, before the
        # Glue tables, beside its manifest).
        if f"/{dataset['id']}/{run}/" in item["Key"]
        and "/part-" in item["Key"]
        and item["Key"].endswith(".parquet")
    ]
    for key, _ in keys:
        s3.download_file(bucket, key, str(folder / key.rsplit("/", 1)[1]))
    return len(keys), sum(size for _, size in keys)


def _cpu() -> np.ndarray:
    """CPU seconds (user + system) so far: [this process (the embedded AWS, the API, the
    uploader and pollers), its descendants (the workers that run the steps)]."""
    import numpy as np  # here: the operations bench's system process does without it

    from bench.ingest.run import _tree_cpu_seconds

    times = os.times()
    own = times.user + times.system
    return np.array([own, _tree_cpu_seconds() - own])


def worker_ours(csv: Path, out: Path, chunk_mib: float) -> dict[str, Any]:
    """The whole path through sluice, timed; see the module's docstring."""
    from sluice.local.system import LocalOptions, LocalSystem

    size = csv.stat().st_size
    clock = Clock()
    system = LocalSystem(
        LocalOptions(
            port=0,
            chunk_bytes=int(chunk_mib * 1024 * 1024),
            max_upload_bytes=max(5 * 1024**3, 2 * size),
            demo=True,
            lambda_processes=os.cpu_count() or 1,
        )
    ).start()
    clock.mark("started")
    try:
        api = system.api_url
        http = _session(api)
        clock.mark("upload")
        dataset_id = _upload(http, api, csv)
        clock.mark("uploaded")
        cpu_uploaded = _cpu()
        dataset = _wait_ready(http, api, dataset_id)
        ingest_cpu = _cpu() - cpu_uploaded
        clock.mark_recorded("ready", dataset.get("ingest_finished_at"))
        if dataset["status"] != "ready":
            return {"error": f"dataset {dataset['status']}: {dataset.get('error')}"}
        cpu_posted = _cpu()
        task_id, result, too_early = _run_task(http, api, dataset_id)
        task_cpu = _cpu() - cpu_posted
        record = http.get(f"{api}/tasks/{task_id}", timeout=60).json()
        # The task alone starts when the POST created it, not when the poll that saw the
        # dataset ready came back (up to POLL_SECONDS later, which only the whole path
        # counts).
        clock.mark_recorded("task created", record.get("created_at"))
        clock.mark_recorded("task done", record.get("finished_at"))
        clock.mark("download")
        outputs = _download(result, out / "ours")
        clock.mark("downloaded")

        # Off the clock from here.
        task = http.get(f"{api}/tasks/{task_id}", timeout=60).json()
        histories = _histories(system)
        s3 = system.client("s3")
        children = children_spans(
            histories, lambda b, k: json.loads(s3.get_object(Bucket=b, Key=k)["Body"].read())
        )
        parts, typed_bytes = _copy_parts(system, dataset, out / "parts")
        return {
            "startup_seconds": clock.marks["started"] - clock.start,
            "upload_seconds": clock.between("upload", "uploaded"),
            "ingest_seconds": clock.between("uploaded", "ready"),
            "task_seconds": clock.between("task created", "task done"),
            "task_cpu_seconds": task_cpu.sum(),
            "task_cpu_aws_seconds": task_cpu[0],
            "ingest_cpu_seconds": ingest_cpu.sum(),
            "ingest_cpu_aws_seconds": ingest_cpu[0],
            "download_seconds": clock.between("download", "downloaded"),
            "seconds": clock.between("uploaded", "task done")
            + clock.between("download", "downloaded"),
            "too_early": too_early,
            "outputs": outputs,
            "output_rows": result["rows"],
            "output_bytes": result["bytes"],
            "row_count": dataset.get("row_count"),
            "chunk_count": dataset.get("chunk_count"),
            "columns": {c["name"]: c.get("effective_type") for c in dataset.get("columns") or []},
            "timings": task.get("timings"),
            "parts": task.get("parts"),
            "buckets": task.get("buckets"),
            "parts_folder": str(out / "parts"),
            "parts_copied": parts,
            "typed_bytes": typed_bytes,
            "spans": [span for kind, ev in histories.items() for span in extract_spans(kind, ev)]
            + children,  # the Distributed Maps' children: not in their parents' histories
            "executions": {kind: count_transitions(ev) for kind, ev in histories.items()},
        }
    finally:
        system.stop()
