"""Training jobs end to end on the local system: the API, the real train_model state
machine, the trainer as the ECS task's subprocess (sluice.local.patches.ecs_tasks)."""

from __future__ import annotations

import contextlib
import io
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import numpy as np
import pytest
import requests

from tests.integration.uploader import Uploader
from tests.support import call_api, invoke, load_event, wait_for

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


@pytest.fixture(scope="module")
def ready(local: Any) -> dict[str, str]:
    """One owner's ready dataset and graph, shared by the module's jobs."""
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


def test_a_tiny_model_trains_through_the_state_machine_and_the_task(
    ready: dict[str, str],
) -> None:
    status, job = train(ready, epochs=4, early_stopping=False)
    assert status == 202, job
    assert job["status"] == "queued" and job["progress"] == 0
    done = finished(ready, job["id"])
    assert done["status"] == "succeeded", done
    assert done["progress"] == 1.0
    assert len(done["history"]["loss"]) == 4 and len(done["history"]["val_loss"]) == 4
    assert done["epoch"]["epoch"] == 4 and "accuracy" in done["epoch"]
    assert set(done["evaluation"]) >= {"loss", "accuracy"}
    assert sum(done["rows"][s] for s in ("train", "validation", "test")) == 400
    assert done["timings"]["samples_per_s"] > 0
    for kind in ("final", "best", "log"):
        status, link = call_api(
            "GET",
            f"/networks/training-jobs/{job['id']}/artifact",
            owner=ready["owner"],
            query={"type": kind},
        )
        assert status == 200, link
        body = requests.get(link["url"], timeout=30).content
        assert body.startswith(b"epoch,") if kind == "log" else body[:2] == b"PK"
    status, page = call_api(
        "GET", "/networks/training-jobs", owner=ready["owner"], query={"graph_id": ready["graph"]}
    )
    assert status == 200 and job["id"] in [j["id"] for j in page["items"]]


def test_a_bad_column_is_422_before_anything_runs(ready: dict[str, str]) -> None:
    status, body = train(ready, x_columns=["a", "b", "nope"])
    assert status == 422, body
    error = body["error"]
    assert error["code"] == "invalid_training" and "'nope'" in error["message"]
    assert error["details"]["problems"][0]["column"] == "nope"
    status, body = train(ready, x_columns=["a", "b"])  # the input node takes 3
    assert status == 422 and body["error"]["details"]["problems"][0]["node"] == "in"
    status, body = train(ready, x_columns=["a", "b", "name"])  # text
    assert status == 422 and "text" in body["error"]["message"]
    status, page = call_api("GET", "/networks/training-jobs", owner=ready["owner"])
    assert all(j["status"] != "queued" for j in page["items"])


def other_graph(ready: dict[str, str], units: int) -> dict[str, str]:
    body = classifier(units=units, activation="softmax")
    status, graph = call_api("POST", "/networks/graphs", body, owner=ready["owner"])
    assert status == 201, graph
    return {**ready, "graph": graph["id"]}


def test_a_category_label_trains_as_class_indices(ready: dict[str, str]) -> None:
    three = other_graph(ready, 3)
    status, job = train(
        three, y_column="kind", loss="sparse_categorical_crossentropy", epochs=2, optimizer="sgd"
    )
    assert status == 202, job
    done = finished(three, job["id"])
    assert done["status"] == "succeeded", done
    assert "accuracy" in done["evaluation"]


def test_a_one_value_output_cannot_take_a_categorical_loss(ready: dict[str, str]) -> None:
    status, body = train(ready, loss="categorical_crossentropy", y_one_hot=True)
    assert status == 422 and body["error"]["details"]["problems"][0]["node"] == "out"


def test_a_trainer_crash_fails_the_job_with_its_message(ready: dict[str, str]) -> None:
    # Labels 0..5 for a two-class output: TensorFlow refuses the first batch.
    two = other_graph(ready, 2)
    status, job = train(two, y_column="klass", loss="sparse_categorical_crossentropy", epochs=2)
    assert status == 202, job
    done = finished(two, job["id"])
    assert done["status"] == "failed", done
    assert done["error"]["code"] == "training_error"
    assert "label value" in done["error"]["message"], done["error"]


def test_cancel_mid_training_keeps_the_history_so_far(local: Any, ready: dict[str, str]) -> None:
    status, job = train(ready, epochs=500, batch_size=4, early_stopping=False, reduce_lr=False)
    assert status == 202

    def training() -> dict[str, Any] | None:
        current = job_of(ready, job["id"])
        return current if len(current["history"].get("loss", [])) >= 2 else None

    seen = len(wait_for(training, 90, "two epochs")["history"]["loss"])
    # A job still training has no model to predict with yet.
    rows = {"instances": [[5.1, -3.0, 40.0]]}
    predict = f"/networks/training-jobs/{job['id']}/predict"
    assert call_api("POST", predict, rows, owner=ready["owner"])[0] == 409
    status, cancelled = call_api(
        "POST", f"/networks/training-jobs/{job['id']}/cancel", owner=ready["owner"]
    )
    assert status == 200 and cancelled["status"] == "cancelled"
    sfn = local.client("stepfunctions")
    machine = Uploader(local).machine("train_model")
    arn = machine.replace(":stateMachine:", ":execution:") + f":{job['run']}"
    wait_for(
        lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING" or None,
        30,
        "the execution to stop",
    )

    def settled() -> dict[str, Any] | None:  # the trainer, stopped, writes what it finished
        current = job_of(ready, job["id"])
        return current if current["timings"].get("train_s") is not None else None

    ended = wait_for(settled, 30, "the stopped trainer's last write")
    assert ended["status"] == "cancelled"
    assert seen <= len(ended["history"]["loss"]) < 500
    assert ended["artifacts"]["final"] is None
    assert (
        call_api("POST", f"/networks/training-jobs/{job['id']}/cancel", owner=ready["owner"])[0]
        == 409
    )


def test_another_users_job_is_404(ready: dict[str, str], trained: dict[str, Any]) -> None:
    job = trained
    intruder = "99999999-2222-3333-4444-555555555555"
    for method, path in (
        ("GET", f"/networks/training-jobs/{job['id']}"),
        ("POST", f"/networks/training-jobs/{job['id']}/cancel"),
        ("DELETE", f"/networks/training-jobs/{job['id']}"),
        ("GET", f"/networks/training-jobs/{job['id']}/artifact"),
    ):
        assert call_api(method, path, owner=intruder)[0] == 404, path
    kept = job_of(ready, job["id"])  # the owner's job is as it was
    assert (kept["status"], kept["artifacts"]) == ("succeeded", job["artifacts"])


def test_early_stopping_and_reduce_lr_take_effect(ready: dict[str, str]) -> None:
    # A learning rate too small to improve by es_min_delta (or by reduce-LR's 1e-4).
    status, job = train(
        ready,
        epochs=40,
        learning_rate=1e-6,
        es_patience=2,
        es_min_delta=0.01,
        rl_patience=0,
        rl_factor=0.5,
        rl_min_lr=1e-9,
    )
    assert status == 202, job
    done = finished(ready, job["id"])
    assert done["status"] == "succeeded", done
    history = done["history"]
    assert len(history["loss"]) == 3  # no improvement in the 2 epochs after the first
    rates = history["learning_rate"]
    assert rates[-1] < rates[0]  # reduced on the plateau


def test_a_graph_with_two_inputs_trains_from_a_map_of_columns(ready: dict[str, str]) -> None:
    body = {
        "name": "two inputs",
        "framework": "keras",
        "nodes": [
            node("left", "Input", shape=[2]),
            node("right", "Input", shape=[1]),
            node("joined", "Concatenate"),
            node("hidden", "Dense", units=4, activation="relu"),
            node("out", "Dense", units=1, activation="sigmoid"),
        ],
        "edges": [
            {"source": "left", "target": "joined"},
            {"source": "right", "target": "joined"},
            {"source": "joined", "target": "hidden"},
            {"source": "hidden", "target": "out"},
        ],
    }
    status, graph = call_api("POST", "/networks/graphs", body, owner=ready["owner"])
    assert status == 201, graph
    two = {**ready, "graph": graph["id"]}
    status, refused = train(two)  # a plain list cannot say which input gets which column
    assert status == 422 and "map of input node id" in refused["error"]["message"]
    status, job = train(two, x_columns={"left": ["a", "b"], "right": ["c"]}, epochs=2)
    assert status == 202, job
    done = finished(two, job["id"])
    assert done["status"] == "succeeded", done
    assert len(done["history"]["loss"]) == 2


def test_predictions_equal_keras_on_the_saved_model(
    ready: dict[str, str], trained: dict[str, Any]
) -> None:
    import keras

    job = trained
    path = f"/networks/training-jobs/{job['id']}/predict"
    rows = [[5.1, -3.0, 40.0], [4.0, 12.5, -80.0]]
    status, by_instances = call_api("POST", path, {"instances": rows}, owner=ready["owner"])
    assert status == 200, by_instances
    records = [dict(zip("abc", row, strict=True)) for row in rows]
    status, by_records = call_api("POST", path, {"records": records}, owner=ready["owner"])
    assert status == 200 and by_records == by_instances
    _, link = call_api("GET", f"/networks/training-jobs/{job['id']}/artifact", owner=ready["owner"])
    saved = io.BytesIO(requests.get(link["url"], timeout=30).content)
    with open_temp(saved) as model_path:
        model = keras.models.load_model(model_path)
    expected = model.predict({"in": np.array(rows, dtype=np.float32)}, verbose=0)
    assert np.allclose(by_instances["predictions"], expected, atol=1e-6)
    status, refused = call_api("POST", path, {"instances": [[1.0, 2.0]]}, owner=ready["owner"])
    assert status == 422 and "instances[0]" in refused["error"]["message"]
    status, refused = call_api("POST", path, {"records": [{"a": 1, "b": 2}]}, owner=ready["owner"])
    assert status == 422 and "records[0].c" in refused["error"]["message"]
    intruder = "99999999-2222-3333-4444-555555555555"
    assert call_api("POST", path, {"instances": rows}, owner=intruder)[0] == 404


@contextlib.contextmanager
def open_temp(body: io.BytesIO) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/model.keras"
        with open(path, "wb") as out:
            out.write(body.getvalue())
        yield path


def test_an_uploaded_csv_starts_the_job_by_itself(local: Any, ready: dict[str, str]) -> None:
    body = {
        "upload": {"filename": "rows.csv", "bytes": len(csv_rows(200, seed=3))},
        "x_columns": ["a", "b", "c"],
        "y_column": "label",
        "loss": "binary_crossentropy",
        "epochs": 2,
    }
    path = f"/networks/graphs/{ready['graph']}/train"
    status, job = call_api("POST", path, body, owner=ready["owner"])
    assert status == 202, job
    assert job["status"] == "queued" and job["upload"]["fields"]["key"]
    assert "upload" not in job_of(ready, job["id"])  # the ticket is not stored
    Uploader(local).put(job["upload"]["fields"]["key"], csv_rows(200, seed=3))
    done = finished(ready, job["id"])
    assert done["status"] == "succeeded", done
    assert sum(done["rows"][s] for s in ("train", "validation", "test")) == 200


def test_a_failed_ingest_fails_the_job_with_its_reason(local: Any, ready: dict[str, str]) -> None:
    content = b"a,b,c,label\n\xe9,1,2,1\n"  # latin-1, undeclared: not UTF-8
    body = {
        "upload": {"filename": "bad.csv", "bytes": len(content)},
        "x_columns": ["a", "b", "c"],
        "y_column": "label",
    }
    path = f"/networks/graphs/{ready['graph']}/train"
    status, job = call_api("POST", path, body, owner=ready["owner"])
    assert status == 202, job
    Uploader(local).put(job["upload"]["fields"]["key"], content)
    done = finished(ready, job["id"])
    assert done["status"] == "failed", done
    assert done["error"]["code"] == "ingest_failed"
    assert "not valid UTF-8" in done["error"]["message"]


def test_an_upload_whose_columns_do_not_fit_fails_once_ingested(
    local: Any, ready: dict[str, str]
) -> None:
    content = csv_rows(50)
    body = {
        "upload": {"filename": "rows.csv", "bytes": len(content)},
        "x_columns": ["a", "b", "missing"],
        "y_column": "label",
    }
    path = f"/networks/graphs/{ready['graph']}/train"
    status, job = call_api("POST", path, body, owner=ready["owner"])
    assert status == 202, job
    Uploader(local).put(job["upload"]["fields"]["key"], content)
    done = finished(ready, job["id"])
    assert done["status"] == "failed" and done["error"]["code"] == "invalid_training"
    assert "'missing'" in done["error"]["message"]


class _Reporter:
    """What fit.train needs of the trainer's reporter, kept in memory."""

    def __init__(self) -> None:
        self.stopped = threading.Event()
        self.fields: dict[str, Any] = {}

    def set(self, **fields: Any) -> None:
        self.fields.update(fields)


def test_a_dataset_past_the_memory_limit_streams_its_row_groups(
    ready: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sluice.config import settings
    from sluice.datasets.repository import DatasetRepository
    from sluice.datasets.rows import typed_manifest
    from sluice.networks.graph_models import GraphBody
    from sluice.training import data as feed
    from sluice.training import fit
    from sluice.training.models import TrainingParams

    monkeypatch.setattr(feed, "IN_MEMORY_BYTES", 0)
    cfg = settings()
    dataset = DatasetRepository(cfg.table).get(ready["owner"], ready["dataset"])
    inputs = {"in": ["a", "b", "c"]}
    params = TrainingParams(
        x_columns=inputs["in"],
        y_column="label",
        loss="binary_crossentropy",
        epochs=2,
        batch_size=32,
        metrics=["accuracy"],
    )
    plan = feed.plan(cfg.data_bucket, typed_manifest(dataset), inputs, params, False)
    assert plan.cached is None  # read again, group by group, every epoch
    reporter = _Reporter()
    outcome = fit.train(
        cfg.data_bucket,
        ready["owner"],
        "streamed",
        GraphBody.model_validate(classifier()),
        params,
        inputs,
        plan,
        reporter,  # type: ignore[arg-type]
        threading.Event(),  # type: ignore[arg-type]
    )
    assert len(outcome.history["loss"]) == 2 and outcome.evaluation is not None
    assert reporter.fields["progress"] == pytest.approx(0.95)


def test_a_category_input_trains_one_hot_and_predicts_from_its_values(
    ready: dict[str, str],
) -> None:
    status, graph = call_api("POST", "/networks/graphs", classifier(5), owner=ready["owner"])
    assert status == 201, graph
    five = {**ready, "graph": graph["id"]}
    status, refused = train(ready, x_columns=["a", "b", "kind"])  # the 3-wide input
    assert status == 422 and "5 value(s)" in refused["error"]["message"], refused
    status, job = train(five, x_columns=["a", "b", "kind"], epochs=2)
    assert status == 202, job
    done = finished(five, job["id"])
    assert done["status"] == "succeeded", done
    path = f"/networks/training-jobs/{job['id']}/predict"
    rows = {"records": [{"a": 5.0, "b": 1.0, "kind": "mid"}]}
    status, answer = call_api("POST", path, rows, owner=ready["owner"])
    assert status == 200 and len(answer["predictions"]) == 1, answer
    status, same = call_api("POST", path, {"instances": [[5.0, 1.0, "mid"]]}, owner=ready["owner"])
    assert status == 200 and same == answer
    rows = {"records": [{"a": 5.0, "b": 1.0, "kind": "huge"}]}
    status, refused = call_api("POST", path, rows, owner=ready["owner"])
    assert status == 422 and "'huge'" in refused["error"]["message"]


@pytest.mark.parametrize(
    ("function", "event", "expected"),
    [
        ("train_prepare", "training/prepare", {"go": False, "wait": False}),
        ("train_prepare", "training/prepare_prediction", {"go": False, "wait": False}),
        ("train_finish", "training/finish", {}),
        ("train_fail", "training/fail", {}),
    ],
)
def test_the_training_sample_events_replay(
    local: Any, function: str, event: str, expected: dict[str, Any]
) -> None:
    # The sample job does not exist: each step leaves it alone.
    answer = invoke(function, load_event(event))
    assert {key: answer[key] for key in expected} == expected


def test_the_predict_sample_event_answers_not_found(local: Any) -> None:
    answer = invoke("training_predict", load_event("training/predict"))
    assert answer["error"]["status"] == 404


@pytest.fixture(scope="module")
def trained(ready: dict[str, str]) -> dict[str, Any]:
    """A succeeded job of the module's graph (a, b, c -> label), shared by the tests that
    need a finished model (a training run costs seconds: TensorFlow's start in its task)."""
    status, job = train(ready, epochs=2)
    assert status == 202, job
    done = finished(ready, job["id"])
    assert done["status"] == "succeeded", done
    return done


def final_model(ready: dict[str, str], job_id: str) -> Any:
    import keras

    path = f"/networks/training-jobs/{job_id}/artifact"
    _, link = call_api("GET", path, owner=ready["owner"])
    with open_temp(io.BytesIO(requests.get(link["url"], timeout=30).content)) as model_path:
        return keras.models.load_model(model_path)


def predicted(ready: dict[str, str], prediction_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        path = f"/networks/prediction-jobs/{prediction_id}"
        status, job = call_api("GET", path, owner=ready["owner"])
        assert status == 200, job
        return job if job["status"] in FINAL and job["finished_at"] else None

    return wait_for(done, 120, f"prediction job {prediction_id} to end")


@pytest.fixture(scope="module")
def prediction(ready: dict[str, str], trained: dict[str, Any]) -> dict[str, Any]:
    """A prediction job of the whole dataset by ``trained``, keeping ``name``: the answer
    that queued it, and the job once it ended (shared: a prediction run costs seconds)."""
    path = f"/networks/training-jobs/{trained['id']}/predictions"
    body = {"dataset_id": ready["dataset"], "keep_columns": ["name"]}
    status, queued = call_api("POST", path, body, owner=ready["owner"])
    assert status == 202, queued
    return {"queued": queued, "done": predicted(ready, queued["id"])}


def test_a_whole_dataset_is_predicted_into_a_new_dataset_equal_to_keras(
    ready: dict[str, str], trained: dict[str, Any], prediction: dict[str, Any]
) -> None:
    job = trained
    path = f"/networks/training-jobs/{job['id']}/predictions"
    queued, done = prediction["queued"], prediction["done"]
    assert queued["status"] == "queued" and queued["training_job_id"] == job["id"]
    assert done["status"] == "succeeded", done
    assert done["rows"] == 400 and done["progress"] == 1.0
    output = done["output_dataset_id"]
    status, dataset = call_api("GET", f"/datasets/{output}", owner=ready["owner"])
    assert status == 200 and dataset["status"] == "ready" and dataset["row_count"] == 400
    # Registered in the Glue Data Catalog by the predictor, as any ready dataset is.
    assert dataset["catalog_error"] is None
    assert dataset["query_table"]["table"].startswith("predictions_")
    assert dataset["query_table"]["table"].endswith(f"_{output}")
    assert {column["name"]: column["notes"] for column in dataset["columns"]}["prediction"] == [
        "written by a model's predictions: its type is its writer's, not inferred"
    ]
    status, page = call_api(
        "GET", f"/datasets/{output}/rows", owner=ready["owner"], query={"num_rows": "400"}
    )
    assert status == 200, page
    assert page["columns"] == ["name", "prediction", "_exceptions"]
    assert [row["name"] for row in page["rows"]] == [f"row{i}" for i in range(400)]
    lines = csv_rows().decode().splitlines()[1:]
    x = np.array([[float(v) for v in line.split(",")[:3]] for line in lines], dtype=np.float32)
    expected = final_model(ready, job["id"]).predict({"in": x}, verbose=0)[:, 0]
    assert np.allclose([row["prediction"] for row in page["rows"]], expected, atol=1e-6)
    status, listed = call_api("GET", path, owner=ready["owner"])
    assert status == 200 and queued["id"] in [p["id"] for p in listed["items"]]


def test_a_dataset_without_an_input_column_is_422_before_anything_runs(
    local: Any, ready: dict[str, str], trained: dict[str, Any]
) -> None:
    job = trained
    uploader = Uploader(local)
    uploader.owner = ready["owner"]
    lacking = uploader.ingest(b"a,b,label\n1.5,2.5,1\n0.5,1.0,0\n")
    path = f"/networks/training-jobs/{job['id']}/predictions"
    status, refused = call_api("POST", path, {"dataset_id": lacking["id"]}, owner=ready["owner"])
    assert status == 422, refused
    assert refused["error"]["code"] == "invalid_prediction"
    assert refused["error"]["details"]["problems"][0]["column"] == "c"
    body = {"dataset_id": ready["dataset"], "keep_columns": ["nope"]}
    status, refused = call_api("POST", path, body, owner=ready["owner"])
    assert status == 422 and refused["error"]["details"]["problems"][0]["column"] == "nope"
    status, listed = call_api("GET", path, owner=ready["owner"])  # nothing queued
    assert status == 200 and lacking["id"] not in [p["dataset_id"] for p in listed["items"]]


def test_another_users_prediction_job_is_404(
    ready: dict[str, str], trained: dict[str, Any], prediction: dict[str, Any]
) -> None:
    job = trained
    path = f"/networks/training-jobs/{job['id']}/predictions"
    intruder = "99999999-2222-3333-4444-555555555555"
    body = {"dataset_id": ready["dataset"]}
    assert call_api("POST", path, body, owner=intruder)[0] == 404
    assert call_api("GET", path, owner=intruder)[0] == 404
    prediction_id = prediction["queued"]["id"]
    for method, where in (
        ("GET", f"/networks/prediction-jobs/{prediction_id}"),
        ("POST", f"/networks/prediction-jobs/{prediction_id}/cancel"),
    ):
        assert call_api(method, where, owner=intruder)[0] == 404, where
    status, kept = call_api(
        "GET", f"/networks/prediction-jobs/{prediction_id}", owner=ready["owner"]
    )
    assert (status, kept["status"]) == (200, "succeeded")


def embedding_graph(input_dim: int) -> dict[str, Any]:
    """Numbers standardised into a Dense; a category's index into an Embedding."""
    return {
        "name": "embedding",
        "framework": "keras",
        "nodes": [
            node("nums", "Input", shape=[3]),
            node("cat", "Input", shape=[1]),
            node("embed", "Embedding", input_dim=input_dim, output_dim=2),
            node("flat", "Flatten"),
            node("dense", "Dense", units=4, activation="relu"),
            node("joined", "Concatenate"),
            node("out", "Dense", units=1, activation="sigmoid"),
        ],
        "edges": [
            {"source": "nums", "target": "dense"},
            {"source": "cat", "target": "embed"},
            {"source": "embed", "target": "flat"},
            {"source": "dense", "target": "joined"},
            {"source": "flat", "target": "joined"},
            {"source": "joined", "target": "out"},
        ],
    }


def test_a_category_feeding_an_embedding_trains_as_indices(ready: dict[str, str]) -> None:
    columns = {"nums": ["a", "b", "c"], "cat": ["kind"]}
    status, small = call_api("POST", "/networks/graphs", embedding_graph(3), owner=ready["owner"])
    assert status == 201, small
    status, refused = train({**ready, "graph": small["id"]}, x_columns=columns)
    assert status == 422, refused  # 3 values and the unknown index take 4
    assert refused["error"]["details"]["problems"][0]["node"] == "cat"
    status, graph = call_api("POST", "/networks/graphs", embedding_graph(4), owner=ready["owner"])
    assert status == 201, graph
    embedded = {**ready, "graph": graph["id"]}
    status, job = train(embedded, x_columns=columns, epochs=2)
    assert status == 202, job
    done = finished(embedded, job["id"])
    assert done["status"] == "succeeded", done
    rows = [{"a": 5.0, "b": 1.0, "c": 3.0, "kind": "mid"}, {"a": 5.0, "b": 1.0, "c": 3.0}]
    rows.append({"a": 4.0, "b": -2.0, "c": 50.0, "kind": "huge"})  # never seen: index 0
    path = f"/networks/training-jobs/{job['id']}/predict"
    status, answer = call_api("POST", path, {"records": rows}, owner=ready["owner"])
    assert status == 200, answer
    model = final_model(embedded, job["id"])
    nums = np.array([[5.0, 1.0, 3.0], [5.0, 1.0, 3.0], [4.0, -2.0, 50.0]], dtype=np.float32)
    # The ingest's categories are sorted: high, low, mid -> 1, 2, 3; missing or unknown 0.
    cat = np.array([[3.0], [0.0], [0.0]], dtype=np.float32)
    expected = model.predict({"nums": nums, "cat": cat}, verbose=0)
    assert np.allclose(answer["predictions"], expected, atol=1e-6)
    assert not any(layer.name == "standardize_cat" for layer in model.layers)


def test_a_cancelled_prediction_job_ends_cancelled_without_a_dataset(
    local: Any, ready: dict[str, str], trained: dict[str, Any]
) -> None:
    path = f"/networks/training-jobs/{trained['id']}/predictions"
    status, prediction = call_api(
        "POST", path, {"dataset_id": ready["dataset"]}, owner=ready["owner"]
    )
    assert status == 202, prediction
    cancel = f"/networks/prediction-jobs/{prediction['id']}/cancel"
    status, cancelled = call_api("POST", cancel, owner=ready["owner"])
    assert status == 200 and cancelled["status"] == "cancelled", cancelled
    sfn = local.client("stepfunctions")
    machine = Uploader(local).machine("predict_dataset")
    arn = machine.replace(":stateMachine:", ":execution:") + f":{prediction['run']}"
    wait_for(
        lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING" or None,
        60,
        "the execution to stop",
    )
    ended = call_api("GET", f"/networks/prediction-jobs/{prediction['id']}", owner=ready["owner"])[
        1
    ]
    assert ended["status"] == "cancelled" and ended["output_dataset_id"] is None
    assert call_api("POST", cancel, owner=ready["owner"])[0] == 409


def test_deleting_a_training_job_cancels_its_running_predictions(
    local: Any, ready: dict[str, str]
) -> None:
    status, job = train(ready, epochs=1)
    assert status == 202, job
    assert finished(ready, job["id"])["status"] == "succeeded"
    path = f"/networks/training-jobs/{job['id']}/predictions"
    status, prediction = call_api(
        "POST", path, {"dataset_id": ready["dataset"]}, owner=ready["owner"]
    )
    assert status == 202, prediction
    deleted = call_api("DELETE", f"/networks/training-jobs/{job['id']}", owner=ready["owner"])
    assert deleted[0] == 204
    ended = predicted(ready, prediction["id"])
    assert ended["status"] == "cancelled" and ended["output_dataset_id"] is None, ended


def test_a_datetime_trains_by_the_calendar_and_predicts_from_its_text(local: Any) -> None:
    uploader = Uploader(local)
    hours = [f"2024-01-{1 + i // 24:02d} {i % 24:02d}:30:00" for i in range(240)]
    body = "when,a,label\n" + "".join(
        f"{when},{i % 7},{int(i % 24 >= 12)}\n" for i, when in enumerate(hours)
    )
    dataset = uploader.ingest(body.encode(), column_types={"when": "datetime"})
    assert dataset["status"] == "ready", dataset
    status, graph = call_api("POST", "/networks/graphs", classifier(8), owner=uploader.owner)
    assert status == 201, graph
    here = {"owner": uploader.owner, "dataset": dataset["id"], "graph": graph["id"]}
    status, refused = train(here, x_columns=["when", "a"])  # seconds: 2 values, not 8
    assert status == 422 and "2 value(s)" in refused["error"]["message"], refused
    status, job = train(here, x_columns=["when", "a"], datetime_features="calendar", epochs=1)
    assert status == 202, job
    done = finished(here, job["id"])
    assert done["status"] == "succeeded", done
    path = f"/networks/training-jobs/{job['id']}/predict"
    by_text = {"records": [{"when": "2024-01-03T13:30:00", "a": 2}]}
    status, answer = call_api("POST", path, by_text, owner=uploader.owner)
    assert status == 200 and len(answer["predictions"]) == 1, answer
    seconds = (datetime(2024, 1, 3, 13, 30) - datetime(1970, 1, 1)).total_seconds()
    status, same = call_api("POST", path, {"instances": [[seconds, 2]]}, owner=uploader.owner)
    assert (status, same) == (200, answer)
    bad = {"records": [{"when": "the third", "a": 2}]}
    status, refused = call_api("POST", path, bad, owner=uploader.owner)
    assert (status, refused["error"]["message"]) == (
        422,
        "records[0].when: 'the third' is not an ISO 8601 datetime",
    )
