"""Data sessions and their operations (the discovered catalogue and its wizards)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from sluice.client.errors import ClientError
from sluice.client.http import Http
from sluice.client.polling import POLL_S, OnProgress


def parse_inputs(pairs: list[str]) -> dict[str, Any]:
    """An operation's ``input_data`` from ``KEY=VALUE`` texts: ``dataset:ID`` names a
    dataset, a JSON value is taken as JSON (``top=10``, ``columns=["a","b"]``), and
    anything else is a string."""
    inputs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            raise ClientError(f"not KEY=VALUE: {pair!r}")
        if text.startswith("dataset:"):
            inputs[key] = {"type": "dataset", "id": text.removeprefix("dataset:")}
            continue
        try:
            inputs[key] = json.loads(text)
        except ValueError:
            inputs[key] = text
    return inputs


class Sessions:
    """``/sessions``, ``/sessions/{id}/operations`` and ``/operations``."""

    def __init__(self, http: Http) -> None:
        self.http = http

    def create(self, name: str, dataset_ids: list[str]) -> dict[str, Any]:
        items = [{"type": "dataset", "id": dataset_id} for dataset_id in dataset_ids]
        answer: dict[str, Any] = self.http.request(
            "POST", "/sessions", {"name": name, "input_data": items}
        )
        return answer

    def all(self) -> Iterator[dict[str, Any]]:
        return self.http.pages("/sessions", limit=100)

    def get(self, session_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.http.request("GET", f"/sessions/{session_id}")
        return answer

    def delete(self, session_id: str) -> None:
        self.http.request("DELETE", f"/sessions/{session_id}")

    def delete_operations(self, session_id: str, operation_ids: list[str]) -> None:
        """Delete operations of a session (stopping those that run): all of them, or none
        where one is not found (404)."""
        ids = ",".join(operation_ids)
        self.http.request("DELETE", f"/sessions/{session_id}/operations", params={"ids": ids})

    def catalogue(self) -> list[dict[str, Any]]:
        """Every operation with its wizard (the inputs a form asks for)."""
        answer: dict[str, Any] = self.http.request("GET", "/operations")
        return list(answer["items"])

    def operations(self, session_id: str) -> Iterator[dict[str, Any]]:
        return self.http.pages(f"/sessions/{session_id}/operations", limit=100)

    def run(self, session_id: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """Start an operation (202), or its cached answer at once (200, ``cached``)."""
        answer: dict[str, Any] = self.http.request(
            "POST", f"/sessions/{session_id}/operations", {"name": name, "input_data": inputs}
        )
        return answer

    def operation(self, session_id: str, operation_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.http.request(
            "GET", f"/sessions/{session_id}/operations/{operation_id}"
        )
        return answer

    def wait(
        self, session_id: str, operation_id: str, on_progress: OnProgress | None = None
    ) -> dict[str, Any]:
        """The operation once COMPLETED; ClientError with its message if FAILED."""
        while True:
            op = self.operation(session_id, operation_id)
            if on_progress is not None:
                on_progress(op)
            if op["status"] == "FAILED":
                raise ClientError(f"operation {operation_id} failed: {op.get('message')}")
            if op["status"] == "COMPLETED":
                return op
            time.sleep(POLL_S)
