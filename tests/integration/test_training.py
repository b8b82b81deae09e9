"""Training jobs end to end on the local system: the API, the real train_model state
machine, the trainer as the ECS task's subprocess (sluice.local.patches.ecs_tasks): a job's
parameters checked, its run, its failure, its cancel and its callbacks; the data feed
past the memory limit."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from tests.integration.training_support import (
    classifier,
    finished,
    job_of,
    ready_dataset,
    train,
)
from tests.integration.uploader import Uploader
from tests.support import call_api, wait_for


@pytest.fixture(scope="module")
def ready(local: Any) -> dict[str, str]:
    """One owner's ready dataset and graph, shared by the module's jobs."""
    return ready_dataset(local)


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


def test_a_parameter_past_dynamodbs_numbers_is_422_naming_it(ready: dict[str, str]) -> None:
    # The API fuzzer's request: 1.2e308 is no number a DynamoDB item holds (a 500 once).
    status, body = train(ready, x_columns=["a", "b", "c"], rl_min_lr=1.2398079795525579e308)
    assert status == 422, body
    assert body["error"]["details"][0]["field"] == "rl_min_lr"


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
