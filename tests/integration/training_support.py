"""What the training tests share: graphs, the rows they train on, a ready dataset, and
the calls that start a job and wait for its end."""

from __future__ import annotations

import contextlib
import io
import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np
import requests

from tests.integration.uploader import Uploader
from tests.support import call_api, wait_for

FINAL = ("succeeded", "failed", "cancelled")


def node(node_id: str, layer: str, **params: Any) -> dict[str, Any]:
    return {"id": node_id, "type": layer, "params": params, "position": {"x": 0, "y": 0}}


def classifier(inputs: int = 3, units: int = 1, activation: str = "sigmoid") -> dict[str, Any]:
    return {
        "name": "tiny",
        "framework": "keras",
        "nodes": [
            node("in", "Input", shape=[inputs]),
            node("hidden", "Dense", units=8, activation="relu"),
            node("out", "Dense", units=units, activation=activation),
        ],
        "edges": [
            {"source": "in", "target": "hidden"},
            {"source": "hidden", "target": "out"},
        ],
    }


def csv_rows(rows: int = 400, seed: int = 0) -> bytes:
    """a, b, c numbers on different scales; label 1 when a + b/10 > c/100 + 5 (learnable
    by a tiny network); kind, a category of three; klass, integers 0..5; name, text."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(rows, 3)) * [1.0, 10.0, 100.0] + [5.0, 0.0, 3.0]
    label = (values[:, 0] + values[:, 1] / 10 > values[:, 2] / 100 + 5).astype(int)
    kinds = np.array(["low", "mid", "high"])[np.digitize(values[:, 0], [4.5, 5.5])]
    klass = rng.integers(0, 6, rows)
    out = io.StringIO()
    out.write("a,b,c,label,kind,klass,name\n")
    for i, ((a, b, c), y) in enumerate(zip(values, label, strict=True)):
        out.write(f"{a:.4f},{b:.4f},{c:.4f},{y},{kinds[i]},{klass[i]},row{i}\n")
    return out.getvalue().encode()


def ready_dataset(local: Any) -> dict[str, str]:
    """A new owner's ready dataset (``csv_rows()``) and graph (``classifier()``), for a
    module's jobs to share."""
    uploader = Uploader(local)
    dataset = uploader.ingest(csv_rows())
    assert dataset["status"] == "ready", dataset
    status, graph = call_api("POST", "/networks/graphs", classifier(), owner=uploader.owner)
    assert status == 201, graph
    return {"owner": uploader.owner, "dataset": dataset["id"], "graph": graph["id"]}


def train(ready: dict[str, str], **params: Any) -> tuple[int, Any]:
    body = {
        "dataset_id": ready["dataset"],
        "x_columns": ["a", "b", "c"],
        "y_column": "label",
        "loss": "binary_crossentropy",
        "metrics": ["accuracy"],
        "epochs": 3,
        "batch_size": 32,
        **params,
    }
    return call_api("POST", f"/networks/graphs/{ready['graph']}/train", body, owner=ready["owner"])


def job_of(ready: dict[str, str], job_id: str) -> dict[str, Any]:
    status, job = call_api("GET", f"/networks/training-jobs/{job_id}", owner=ready["owner"])
    assert status == 200, job
    return job  # type: ignore[no-any-return]


def finished(ready: dict[str, str], job_id: str, timeout_s: float = 120) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        job = job_of(ready, job_id)
        return job if job["status"] in FINAL and job["finished_at"] else None

    return wait_for(done, timeout_s, f"training job {job_id} to end")


@contextlib.contextmanager
def open_temp(body: io.BytesIO) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/model.keras"
        with open(path, "wb") as out:
            out.write(body.getvalue())
        yield path


def final_model(ready: dict[str, str], job_id: str) -> Any:
    import keras

    path = f"/networks/training-jobs/{job_id}/artifact"
    _, link = call_api("GET", path, owner=ready["owner"])
    with open_temp(io.BytesIO(requests.get(link["url"], timeout=30).content)) as model_path:
        return keras.models.load_model(model_path)
