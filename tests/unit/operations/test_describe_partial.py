"""Describe's output so far, as a client polling a running describe sees it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sluice.operations.base import OperationRun
from sluice.operations.library import describe

RUN = OperationRun(
    owner="o", id="op", inputs={"columns": [], "top": 10}, datasets={}, work="work/op/"
)


def _stats(rows: int) -> dict[str, Any]:
    return {"rows": rows, "columns": {"n": {"type": "int64", "count": rows, "nulls": 0}}}


def test_a_polled_describe_reads_each_parts_statistics_once_per_etag(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored = {
        "work/op/describe/p0.json": ("e0", _stats(3)),
        "work/op/describe/p1.json": ("e1", _stats(4)),
    }
    listed: list[dict[str, str]] = [
        {"work/op/describe/p0.json": "e0"},
        {"work/op/describe/p0.json": "e0", "work/op/describe/p1.json": "e1"},
        {"work/op/describe/p0.json": "e0", "work/op/describe/p1.json": "e1"},
        {"work/op/describe/p0.json": "e0b", "work/op/describe/p1.json": "e1"},  # rewritten
    ]
    read: list[list[str]] = []
    monkeypatch.setattr(describe.objects, "list_etags", lambda bucket, prefix: listed.pop(0))

    def find_jsons(keys: list[str]) -> list[Any]:
        read.append(keys)
        return [stored[k][1] for k in keys]

    monkeypatch.setattr(describe, "find_jsons", find_jsons)
    monkeypatch.setattr(describe, "_READ", {})
    monkeypatch.setattr(describe, "settings", lambda: SimpleNamespace(data_bucket="data"))
    so_far = [describe.Describe().partial(RUN) for _ in range(4)]
    assert [(s["rows"], s["parts_done"]) for s in so_far] == [(3, 1), (7, 2), (7, 2), (7, 2)]
    assert so_far[2]["columns"][0]["count"] == 7
    p0, p1 = sorted(stored)
    assert read == [[p0], [p1], [p0]]


def test_a_polled_describe_whose_parts_statistics_went_shows_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run that ended removes its work folder while a poll lists it: no partial figure."""
    monkeypatch.setattr(describe.objects, "list_etags", lambda bucket, prefix: {"k": "e"})
    monkeypatch.setattr(describe, "find_jsons", lambda keys: None)
    monkeypatch.setattr(describe, "_READ", {})
    monkeypatch.setattr(describe, "settings", lambda: SimpleNamespace(data_bucket="data"))
    assert describe.Describe().partial(RUN) is None
