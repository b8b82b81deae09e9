"""Analysis tasks: start an aggregation, follow it, fetch its output files."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sluice.client import transfer
from sluice.client.errors import ClientError, TaskFailed
from sluice.client.http import Http
from sluice.client.polling import ENDED, POLL_S


def aggregation(
    group_by: list[str], aggs: list[str], fmt: str = "csv", max_file_bytes: int | None = None
) -> dict[str, Any]:
    """A task's body from the CLI's short forms: ``aggs`` as ``column:op`` or
    ``column:op:name`` (``*:count`` counts rows)."""
    aggregations = []
    for spec in aggs:
        parts = spec.split(":")
        if len(parts) not in (2, 3) or not all(parts):
            raise ClientError(f"not an aggregation: {spec!r} (column:op or column:op:name)")
        entry = {"column": parts[0], "op": parts[1]}
        if len(parts) == 3:
            entry["name"] = parts[2]
        aggregations.append(entry)
    output: dict[str, Any] = {"format": fmt}
    if max_file_bytes is not None:
        output["max_file_bytes"] = max_file_bytes
    return {"group_by": group_by, "aggregations": aggregations, "output": output}


class Tasks:
    """The ``/tasks`` routes and ``POST /datasets/{id}/tasks``."""

    def __init__(self, http: Http) -> None:
        self.http = http

    def start(self, dataset_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Start an aggregation (or a ``preset``) on a ready dataset: the queued task."""
        answer: dict[str, Any] = self.http.request("POST", f"/datasets/{dataset_id}/tasks", body)
        return answer

    def get(self, task_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.http.request("GET", f"/tasks/{task_id}")
        return answer

    def all(
        self, dataset_id: str | None = None, status: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every task of the caller, or of one dataset, or in one status."""
        return self.http.pages("/tasks", limit=100, dataset_id=dataset_id, status=status)

    def wait(
        self, task_id: str, on_progress: Callable[[dict[str, Any]], None] | None = None
    ) -> dict[str, Any]:
        """The task once it succeeded; :class:`TaskFailed` if it failed or was cancelled."""
        while True:
            task = self.get(task_id)
            if on_progress is not None:
                on_progress(task)
            if task["status"] in ("failed", "cancelled"):
                raise TaskFailed(task)
            if task["status"] in ENDED:
                return task
            time.sleep(POLL_S)

    def cancel(self, task_id: str) -> dict[str, Any]:
        """Stop a queued or running task (409 once it ended): the task, cancelled."""
        answer: dict[str, Any] = self.http.request("POST", f"/tasks/{task_id}/cancel")
        return answer

    def delete(self, task_id: str) -> None:
        """Delete a task and its files (stopping it if it runs)."""
        self.http.request("DELETE", f"/tasks/{task_id}")

    def result(self, task_id: str) -> dict[str, Any]:
        """``GET /tasks/{id}/result``: ``output_files`` with presigned URLs (425 while it
        runs, 406 after a failure: raised as :class:`ApiError`)."""
        answer: dict[str, Any] = self.http.request("GET", f"/tasks/{task_id}/result")
        return answer

    def download_result(
        self,
        task_id: str,
        out_dir: Path,
        on_bytes: transfer.OnBytes | None = None,
        result: dict[str, Any] | None = None,
    ) -> list[Path]:
        """Every output file of a succeeded task into ``out_dir``; their paths."""
        result = result or self.result(task_id)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for file in result["output_files"]:
            target = out_dir / Path(file["name"]).name  # a name, never a path outside
            transfer.download(file["url"], target, on_bytes or (lambda _: None))
            paths.append(target)
        return paths
