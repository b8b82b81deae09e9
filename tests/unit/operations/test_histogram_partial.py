"""Histogram's bins so far, as a client polling a running histogram sees them: one
partial a Map child's batch, each saying how many parts it counted; the column's type
comes with the edges, so that a poll reads no manifest."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sluice.inference.types import ColumnType
from sluice.operations.base import OperationRun
from sluice.operations.library import histogram

RUN = OperationRun(
    owner="o", id="op", inputs={"column": "n", "bins": 2}, datasets={}, work="work/op/"
)


def test_a_polled_histogram_adds_its_batches_counts_and_parts_reading_no_manifest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored: dict[str, Any] = {
        "work/op/edges.json": {"edges": [0.0, 1.0, 2.0], "type": "float64"},
        "work/op/bins/p000000.json": {
            "counts": [3, 1],
            "nulls": 1,
            "non_finite": 0,
            "unit": "us",
            "parts": 3,
        },
        "work/op/bins/p000001.json": {
            "counts": [0, 2],
            "nulls": 0,
            "non_finite": 1,
            "unit": "us",
            "parts": 2,
        },
    }
    listed = [key for key in stored if key.startswith("work/op/bins/")]
    monkeypatch.setattr(histogram.objects, "list_keys", lambda bucket, prefix: listed)
    monkeypatch.setattr(histogram, "find_jsons", lambda keys: [stored[k] for k in keys])
    monkeypatch.setattr(histogram, "settings", lambda: SimpleNamespace(data_bucket="data"))

    def no_manifest(run: OperationRun) -> ColumnType:
        raise AssertionError("a poll read the dataset's manifest")

    monkeypatch.setattr(histogram, "_column_type", no_manifest)
    so_far = histogram.Histogram().partial(RUN)
    assert so_far["parts_done"] == 5
    assert [b["count"] for b in so_far["bins"]] == [3, 3]
    assert (so_far["nulls"], so_far["non_finite"]) == (1, 1)
    assert (so_far["type"], so_far["bins"][0]["start"]) == ("float64", 0.0)
