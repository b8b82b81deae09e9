"""A trained model's predictions end to end on the local system: rows through the API
equal Keras on the saved model, a whole dataset through the predict_dataset state
machine into a new dataset, cancels and deletes, and nobody else's job seen. One model
is trained for the module (``trained``) and one dataset predicted (``prediction``)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
import requests

from tests.integration.training_support import (
    FINAL,
    csv_rows,
    final_model,
    finished,
    job_of,
    open_temp,
    ready_dataset,
    train,
)
from tests.integration.uploader import Uploader
from tests.support import call_api, wait_for


@pytest.fixture(scope="module")
def ready(local: Any) -> dict[str, str]:
    """One owner's ready dataset and graph, shared by the module's jobs."""
    return ready_dataset(local)


@pytest.fixture(scope="module")
def trained(ready: dict[str, str]) -> dict[str, Any]:
    """A succeeded job of the module's graph (a, b, c -> label), shared by the tests that
    need a finished model (a training run costs seconds: TensorFlow's start in its task)."""
    status, job = train(ready, epochs=2)
    assert status == 202, job
    done = finished(ready, job["id"])
    assert done["status"] == "succeeded", done
    return done


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
