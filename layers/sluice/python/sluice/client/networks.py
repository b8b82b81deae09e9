"""Networks: a Keras model file imported as a graph, and training jobs: start, follow,
read."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sluice.client.http import Http
from sluice.client.polling import ENDED, POLL_S, OnProgress
from sluice.client.transfer import OnBytes
from sluice.client.uploads import post_file


class Imports:
    """``/networks/import-jobs``: a ``.keras``, ``.h5`` or ``.zip`` file made a graph."""

    def __init__(self, http: Http) -> None:
        self.http = http

    def start(
        self, filename: str, size: int, graph_name: str | None = None, create_graph: bool = True
    ) -> dict[str, Any]:
        """Record a queued job for a file of ``size`` bytes: ``{job, upload}`` (the
        presigned POST that takes exactly that many). The import starts when it lands."""
        body: dict[str, Any] = {"filename": filename, "bytes": size, "create_graph": create_graph}
        if graph_name:
            body["graph_name"] = graph_name
        answer: dict[str, Any] = self.http.request("POST", "/networks/import-jobs", body)
        return answer

    def get(self, job_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.http.request("GET", f"/networks/import-jobs/{job_id}")
        return answer

    def wait(self, job_id: str, on_progress: OnProgress | None = None) -> dict[str, Any]:
        """The job once it ended (succeeded, failed or cancelled)."""
        return _ended(lambda: self.get(job_id), on_progress)

    def send(
        self,
        file: str | Path,
        graph_name: str | None = None,
        create_graph: bool = True,
        on_bytes: OnBytes | None = None,
        on_size: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """Start an import of ``file`` and send it: the job, ``queued`` or already further
        (its file has landed; ``wait`` follows it). With ``create_graph`` the graph is
        stored once the import succeeds (the job's ``graph_id``). ``on_size`` is told the
        request's whole size, then ``on_bytes`` of each chunk sent."""
        path = Path(file)
        started = self.start(path.name, path.stat().st_size, graph_name, create_graph)
        counted = on_bytes or (lambda _: None)
        form = started["upload"]
        post_file(form, path, "application/octet-stream", counted, on_size=on_size)
        return self.get(started["job"]["id"])


class Graphs:
    """``/networks/graphs``: the stored graphs."""

    def __init__(self, http: Http) -> None:
        self.http = http

    def all(self) -> Iterator[dict[str, Any]]:
        """Every graph of the caller, a page at a time."""
        return self.http.pages("/networks/graphs", limit=100)

    def get(self, graph_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.http.request("GET", f"/networks/graphs/{graph_id}")
        return answer

    def compile(self, graph_id: str) -> dict[str, Any]:
        """Keras's view of a stored graph: ``{summary, parameter_count, ...}``."""
        answer: dict[str, Any] = self.http.request("POST", f"/networks/graphs/{graph_id}/compile")
        return answer

    def delete(self, graph_id: str) -> None:
        self.http.request("DELETE", f"/networks/graphs/{graph_id}")


class Training:
    """``/networks/graphs/{id}/train`` and ``/networks/training-jobs``."""

    def __init__(self, http: Http) -> None:
        self.http = http

    def start(self, graph_id: str, params: dict[str, Any]) -> dict[str, Any]:
        """Train a stored graph on a ready dataset: the queued job (202)."""
        answer: dict[str, Any] = self.http.request(
            "POST", f"/networks/graphs/{graph_id}/train", params
        )
        return answer

    def get(self, job_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.http.request("GET", f"/networks/training-jobs/{job_id}")
        return answer

    def all(
        self, graph_id: str | None = None, status: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every training job of the caller, or of one graph, or in one status."""
        return self.http.pages(
            "/networks/training-jobs", limit=100, graph_id=graph_id, status=status
        )

    def wait(self, job_id: str, on_progress: OnProgress | None = None) -> dict[str, Any]:
        """The job once it ended (succeeded, failed or cancelled)."""
        return _ended(lambda: self.get(job_id), on_progress)

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Stop a queued or running training job (409 once it ended): the job, cancelled
        with its history so far."""
        answer: dict[str, Any] = self.http.request(
            "POST", f"/networks/training-jobs/{job_id}/cancel"
        )
        return answer

    def delete(self, job_id: str) -> None:
        """Delete a training job (stopping it) and its files."""
        self.http.request("DELETE", f"/networks/training-jobs/{job_id}")

    def predict(self, job_id: str, params: dict[str, Any]) -> dict[str, Any]:
        """Predict a whole ready dataset with a trained model (``{dataset_id,
        keep_columns?, name?}``): the queued prediction job (202)."""
        answer: dict[str, Any] = self.http.request(
            "POST", f"/networks/training-jobs/{job_id}/predictions", params
        )
        return answer

    def prediction(self, prediction_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.http.request(
            "GET", f"/networks/prediction-jobs/{prediction_id}"
        )
        return answer

    def wait_prediction(
        self, prediction_id: str, on_progress: OnProgress | None = None
    ) -> dict[str, Any]:
        """The prediction job once it ended (succeeded, failed or cancelled)."""
        return _ended(lambda: self.prediction(prediction_id), on_progress)


def _ended(read: Callable[[], dict[str, Any]], on_progress: OnProgress | None) -> dict[str, Any]:
    """A job's record, read until its status is final."""
    while True:
        job = read()
        if on_progress is not None:
            on_progress(job)
        if job["status"] in ENDED:
            return job
        time.sleep(POLL_S)
