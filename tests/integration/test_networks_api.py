"""The /networks routes, through the api handler, on the embedded AWS: manifests
served from their JSON, graphs stored per owner and validated on every save."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support import call_api

pytestmark = pytest.mark.usefixtures("local")


def new_owner() -> str:
    return str(uuid.uuid4())


def node(node_id: str, layer: str, **params: Any) -> dict[str, Any]:
    return {"id": node_id, "type": layer, "params": params, "position": {"x": 1.5, "y": 2}}


MLP: dict[str, Any] = {
    "name": "mlp",
    "framework": "keras",
    "nodes": [
        node("in", "Input", shape=[8]),
        node("d1", "Dense", units=16, activation="relu"),
        node("drop", "Dropout", rate=0.5),
        node("out", "Dense", units=1, activation="sigmoid"),
    ],
    "edges": [
        {"id": "e1", "source": "in", "target": "d1"},
        {"id": "e2", "source": "d1", "target": "drop"},
        {"id": "e3", "source": "drop", "target": "out"},
    ],
}


def create(owner: str, body: dict[str, Any] = MLP) -> dict[str, Any]:
    status, created = call_api("POST", "/networks/graphs", body, owner=owner)
    assert status == 201, created
    return created  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind", ["layers", "optimizers", "losses", "metrics", "activations"])
def test_each_manifest_is_served(kind: str) -> None:
    status, body = call_api("GET", f"/networks/{kind}", owner=new_owner())
    assert status == 200
    assert body["kind"] == kind and body["keras_version"] and body["entries"]
    name = body["entries"][0]["name"]
    status, entry = call_api("GET", f"/networks/{kind}/{name}", owner=new_owner())
    assert status == 200 and entry["name"] == name


def test_a_layer_by_alias_and_by_category() -> None:
    status, entry = call_api("GET", "/networks/layers/Input", owner=new_owner())
    assert status == 200 and entry["name"] == "InputLayer"
    status, merging = call_api(
        "GET", "/networks/layers", owner=new_owner(), query={"category": "merging"}
    )
    assert status == 200 and "Concatenate" in {e["name"] for e in merging["entries"]}
    assert all("merging" in e["categories"] for e in merging["entries"])


def test_an_unknown_manifest_name_is_404() -> None:
    status, body = call_api("GET", "/networks/losses/NoSuchLoss", owner=new_owner())
    assert status == 404 and body["error"]["code"] == "not_found"


def test_create_get_list_replace_patch_delete() -> None:
    owner = new_owner()
    graph = create(owner)
    assert graph["name"] == "mlp" and len(graph["nodes"]) == 4 and "owner" not in graph
    status, got = call_api("GET", f"/networks/graphs/{graph['id']}", owner=owner)
    assert status == 200 and got == graph
    status, page = call_api("GET", "/networks/graphs", owner=owner)
    assert status == 200 and [g["id"] for g in page["items"]] == [graph["id"]]
    nodes = [*MLP["nodes"][:2], node("drop", "Dropout", rate=0.25), MLP["nodes"][3]]
    replaced_body = {**MLP, "name": "renamed", "nodes": nodes}
    status, replaced = call_api(
        "PUT", f"/networks/graphs/{graph['id']}", replaced_body, owner=owner
    )
    assert status == 200 and replaced["name"] == "renamed"
    assert replaced["nodes"][2]["params"] == {"rate": 0.25}
    assert replaced["created_at"] == graph["created_at"]
    status, patched = call_api(
        "PATCH", f"/networks/graphs/{graph['id']}", {"name": "patched"}, owner=owner
    )
    assert status == 200 and patched["name"] == "patched"
    assert patched["nodes"] == replaced["nodes"]
    assert call_api("DELETE", f"/networks/graphs/{graph['id']}", owner=owner)[0] == 204
    assert call_api("GET", f"/networks/graphs/{graph['id']}", owner=owner)[0] == 404


def test_list_pages_with_next_token() -> None:
    owner = new_owner()
    ids = {create(owner, {**MLP, "name": f"g{i}"})["id"] for i in range(3)}
    status, first = call_api("GET", "/networks/graphs", owner=owner, query={"limit": "2"})
    assert status == 200 and len(first["items"]) == 2 and first["next_token"]
    status, second = call_api(
        "GET",
        "/networks/graphs",
        owner=owner,
        query={"limit": "2", "next_token": first["next_token"]},
    )
    assert {g["id"] for g in first["items"] + second["items"]} == ids


def test_another_users_graph_is_404() -> None:
    graph_id = create(new_owner())["id"]
    intruder = new_owner()
    assert call_api("GET", f"/networks/graphs/{graph_id}", owner=intruder)[0] == 404
    assert call_api("PUT", f"/networks/graphs/{graph_id}", MLP, owner=intruder)[0] == 404
    assert call_api("PATCH", f"/networks/graphs/{graph_id}", {"name": "x"}, owner=intruder)[0] == (
        404
    )
    assert call_api("DELETE", f"/networks/graphs/{graph_id}", owner=intruder)[0] == 404
    status, page = call_api("GET", "/networks/graphs", owner=intruder)
    assert status == 200 and page["items"] == []


def test_validate_answers_the_order_and_shapes() -> None:
    status, check = call_api("POST", "/networks/graphs/validate", MLP, owner=new_owner())
    assert status == 200
    assert check["order"] == ["in", "d1", "drop", "out"]
    assert check["shapes"] == {"in": [8], "d1": [16], "drop": [16], "out": [1]}


def test_an_invalid_graph_is_422_with_one_entry_per_problem() -> None:
    broken = {
        **MLP,
        "nodes": [
            MLP["nodes"][0],
            node("d1", "Dense", activation="relux"),
            MLP["nodes"][2],
            MLP["nodes"][3],
        ],
    }
    for method, path in (("POST", "/networks/graphs/validate"), ("POST", "/networks/graphs")):
        status, body = call_api(method, path, broken, owner=new_owner())
        assert status == 422
        error = body["error"]
        assert error["code"] == "invalid_graph"
        assert error["message"].startswith("the graph is invalid: node d1")
        assert {(d["code"], d["node"], d["parameter"]) for d in error["details"]} == {
            ("invalid_parameter", "d1", "activation"),
            ("missing_parameter", "d1", "units"),
        }


def test_a_save_that_breaks_the_graph_keeps_the_stored_one() -> None:
    owner = new_owner()
    graph = create(owner)
    bad_edges = [*MLP["edges"], {"source": "out", "target": "in"}]
    status, body = call_api(
        "PATCH", f"/networks/graphs/{graph['id']}", {"edges": bad_edges}, owner=owner
    )
    assert status == 422 and body["error"]["code"] == "invalid_graph"
    assert call_api("GET", f"/networks/graphs/{graph['id']}", owner=owner)[1] == graph


def test_a_body_with_an_unknown_field_is_422() -> None:
    status, body = call_api("POST", "/networks/graphs", {**MLP, "colour": 1}, owner=new_owner())
    assert status == 422 and body["error"]["code"] == "validation_error"


TWO_INPUTS: dict[str, Any] = {
    "name": "two inputs",
    "nodes": [
        node("a", "Input", shape=[4]),
        node("b", "Input", shape=[6]),
        node("cat", "Concatenate"),
        node("out", "Dense", units=2),
    ],
    "edges": [
        {"source": "a", "target": "cat"},
        {"source": "b", "target": "cat"},
        {"source": "cat", "target": "out"},
    ],
}


def test_compile_an_unsaved_graph_in_the_tensorflow_function() -> None:
    status, result = call_api("POST", "/networks/graphs/compile", TWO_INPUTS, owner=new_owner())
    assert status == 200, result
    assert result["parameter_count"] == 10 * 2 + 2
    assert result["inputs"] == [{"node": "a", "shape": [4]}, {"node": "b", "shape": [6]}]
    assert result["outputs"] == [{"node": "out", "shape": [2]}]
    assert "cat (Concatenate)" in result["summary"]


def test_compile_a_stored_graph_and_another_users_is_404() -> None:
    owner = new_owner()
    graph_id = create(owner)["id"]
    status, result = call_api("POST", f"/networks/graphs/{graph_id}/compile", owner=owner)
    assert status == 200 and result["parameter_count"] == (8 * 16 + 16) + (16 + 1)
    assert call_api("POST", f"/networks/graphs/{graph_id}/compile", owner=new_owner())[0] == 404


def test_a_keras_error_is_422_with_its_message() -> None:
    clash = {**MLP, "nodes": [*MLP["nodes"][:3], node("out", "Dense", units=1, name="d1")]}
    status, body = call_api("POST", "/networks/graphs/compile", clash, owner=new_owner())
    assert status == 422
    assert body["error"]["code"] == "keras_error" and "unique" in body["error"]["message"]


def test_an_invalid_graph_is_refused_before_tensorflow() -> None:
    broken = {**TWO_INPUTS, "edges": TWO_INPUTS["edges"][1:]}
    status, body = call_api("POST", "/networks/graphs/compile", broken, owner=new_owner())
    assert status == 422 and body["error"]["code"] == "invalid_graph"
