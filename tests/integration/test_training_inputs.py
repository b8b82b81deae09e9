"""What a trained model's inputs can be, end to end on the local system: several input
nodes fed by a map of columns, a category one-hot or as an Embedding's indices, a
datetime by the calendar; each trains and predicts from the values it was given."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pytest

from tests.integration.training_support import (
    classifier,
    final_model,
    finished,
    node,
    ready_dataset,
    train,
)
from tests.integration.uploader import Uploader
from tests.support import call_api


@pytest.fixture(scope="module")
def ready(local: Any) -> dict[str, str]:
    """One owner's ready dataset and graph, shared by the module's jobs."""
    return ready_dataset(local)


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
