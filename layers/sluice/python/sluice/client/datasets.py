"""Datasets: create, read, list, the folder tree, columns, rows, types and downloads.

Records are returned as the API answers them (dicts of JSON), so that a field the API
adds reaches scripts without a client release."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from sluice.client.errors import ClientError, IngestFailed
from sluice.client.http import Http
from sluice.client.polling import POLL_S, OnProgress

SETTLED = ("ready", "failed", "duplicate")


class Datasets:
    """The ``/datasets`` routes."""

    def __init__(self, http: Http) -> None:
        self.http = http

    def create(self, name: str, **settings: Any) -> dict[str, Any]:
        """``POST /datasets``: ``{dataset, upload}`` (the presigned POST). ``settings``:
        path, description, column_types, na_values, max_categories, tolerance."""
        body = {"name": name, **{k: v for k, v in settings.items() if v is not None}}
        answer: dict[str, Any] = self.http.request("POST", "/datasets", body)
        return answer

    def get(self, dataset_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.http.request("GET", f"/datasets/{dataset_id}")
        return answer

    def all(self) -> Iterator[dict[str, Any]]:
        """Every dataset of the caller, a page at a time."""
        return self.http.pages("/datasets", limit=100)

    def tree(self, path: str = "", depth: int = 10) -> dict[str, Any]:
        """The folder at ``path`` with its folders and datasets ``depth`` levels down."""
        answer: dict[str, Any] = self.http.request(
            "GET", "/datasets/tree", params={"path": path or None, "depth": depth}
        )
        return answer

    def columns(self, dataset_id: str) -> list[dict[str, Any]]:
        """Every column with its types and statistics, in the file's order."""
        columns: list[dict[str, Any]] = []
        token = None
        while True:
            page = self.http.request(
                "GET",
                f"/datasets/{dataset_id}/columns",
                params={"limit": 1000, "next_token": token},
            )
            columns += page["columns"]
            token = page.get("next_token")
            if not token:
                return columns

    def rows(
        self, dataset_id: str, start: int = 0, num: int = 10, orient: str = "records"
    ) -> dict[str, Any]:
        """Typed rows ``[start, start + num)``, with their ``_exceptions``."""
        answer: dict[str, Any] = self.http.request(
            "GET",
            f"/datasets/{dataset_id}/rows",
            params={"start_row": start, "num_rows": num, "orient": orient},
        )
        return answer

    def set_types(
        self, dataset_id: str, types: dict[str, str | None], tolerance: float | None = None
    ) -> dict[str, Any]:
        """``PUT .../preferred-types``: re-decide and re-convert (202); None clears a
        column's preference."""
        body: dict[str, Any] = {"types": types}
        if tolerance is not None:
            body["tolerance"] = tolerance
        answer: dict[str, Any] = self.http.request(
            "PUT", f"/datasets/{dataset_id}/preferred-types", body
        )
        return answer

    def inference(
        self, dataset_id: str, command: str = "status", settings: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """``POST .../inference``: ``start`` (again, on the stored file; ``settings``
        changes the given ones, a null dialect field or encoding asks for detection or UTF-8
        again), ``stop``, ``reset`` or ``status``. The inference's status, run, settings and
        error."""
        body: dict[str, Any] = {"command": command}
        if settings is not None:
            body["settings"] = settings
        answer: dict[str, Any] = self.http.request(
            "POST", f"/datasets/{dataset_id}/inference", body
        )
        return answer

    def update(self, dataset_id: str, **changes: str | None) -> dict[str, Any]:
        """``PATCH /datasets/{id}``: rename, move or describe (``name``, ``path``,
        ``description``; those left None stay as they are). The dataset as changed."""
        body = {key: value for key, value in changes.items() if value is not None}
        answer: dict[str, Any] = self.http.request("PATCH", f"/datasets/{dataset_id}", body)
        return answer

    def delete(self, dataset_id: str) -> None:
        """``DELETE /datasets/{id}``: the record and every object it owns; a running
        ingest is stopped."""
        self.http.request("DELETE", f"/datasets/{dataset_id}")

    def wait(
        self,
        dataset_id: str,
        on_progress: OnProgress | None = None,
        timeout_s: float | None = None,
    ) -> dict[str, Any]:
        """The dataset once its ingest ends: ready (or duplicate); :class:`IngestFailed`
        with the dataset's error when it failed."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            dataset = self.get(dataset_id)
            if on_progress is not None:
                on_progress(dataset)
            if dataset["status"] == "failed":
                raise IngestFailed(dataset)
            if dataset["status"] in SETTLED:
                return dataset
            if deadline is not None and time.monotonic() > deadline:
                raise ClientError(f"dataset {dataset_id} is still {dataset['status']}")
            time.sleep(POLL_S)

    def download_url(
        self, dataset_id: str, fmt: str = "csv", timeout_s: float = 3600
    ) -> dict[str, Any]:
        """The whole typed dataset as one file: ``{url, bytes, format}`` once built (the
        first request starts building it; 202 until it exists)."""
        deadline = time.monotonic() + timeout_s
        while True:
            status, answer = self.http.call(
                "GET", f"/datasets/{dataset_id}/download", params={"format": fmt}
            )
            if status == 200:
                return dict(answer)
            if time.monotonic() > deadline:
                raise ClientError(f"the {fmt} file of dataset {dataset_id} is still being built")
            time.sleep(float(answer.get("retry_after", 2)) if isinstance(answer, dict) else 2)
