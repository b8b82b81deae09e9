"""Compile (issue 19, item 3): a graph as a Keras functional model, in this process."""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path
from typing import Any

import pytest
from sluice.networks.compile import KerasError, ModelTooLarge, compile_graph
from sluice.networks.graph_models import GraphBody
from sluice.networks.service import GraphInvalid

ROOT = Path(__file__).resolve().parents[3]


def node(node_id: str, layer: str, **params: Any) -> dict[str, Any]:
    return {"id": node_id, "type": layer, "params": params, "position": {"x": 0, "y": 0}}


def graph(nodes: list[dict[str, Any]], edges: list[tuple[str, str]]) -> GraphBody:
    return GraphBody.model_validate(
        {"name": "g", "nodes": nodes, "edges": [{"source": s, "target": t} for s, t in edges]}
    )


TWO_INPUTS = graph(
    [
        node("a", "Input", shape=[4]),
        node("b", "Input", shape=[6]),
        node("cat", "Concatenate"),
        node("d", "Dense", units=3, activation="relu"),
        node("o", "Dense", units=1),
    ],
    [("a", "cat"), ("b", "cat"), ("cat", "d"), ("d", "o")],
)


def test_a_multi_input_graph_with_concatenate() -> None:
    result = compile_graph(TWO_INPUTS)
    assert result.parameter_count == (10 * 3 + 3) + (3 + 1)
    assert result.trainable_parameter_count == result.parameter_count
    assert [(t.node, t.shape) for t in result.inputs] == [("a", [4]), ("b", [6])]
    assert [(t.node, t.shape) for t in result.outputs] == [("o", [1])]
    assert "cat (Concatenate)" in result.summary and "a[0][0], b[0][0]" in result.summary


def test_maids_input_shape_on_a_first_layer() -> None:
    result = compile_graph(graph([node("d", "Dense", units=2, input_shape=[3])], []))
    assert result.parameter_count == 8 and result.inputs[0].shape == [3]


def test_a_keras_error_is_422_with_its_message() -> None:
    clash = graph(
        [node("a", "Input", shape=[4]), node("d", "Dense", units=3, name="a")], [("a", "d")]
    )
    with pytest.raises(KerasError) as raised:
        compile_graph(clash)
    assert raised.value.status == 422 and raised.value.code == "keras_error"
    assert "unique" in raised.value.message


def test_an_invalid_graph_is_refused_before_keras() -> None:
    with pytest.raises(GraphInvalid):
        compile_graph(graph([node("a", "Input", shape=[4]), node("d", "Dense")], [("a", "d")]))


def test_twenty_layers_compile_again_with_the_same_parameter_count() -> None:
    # How fast a warm compile is belongs to a benchmark, not a test (timings swing with load).
    nodes = [node("in", "Input", shape=[32])]
    nodes += [node(f"d{i}", "Dense", units=32, activation="relu") for i in range(19)]
    ids = [n["id"] for n in nodes]
    twenty = graph(nodes, list(itertools.pairwise(ids)))
    first = compile_graph(twenty)
    again = compile_graph(twenty)
    assert first.parameter_count == again.parameter_count == 19 * (32 * 32 + 32)


def test_the_function_answers_errors_as_data() -> None:
    spec = importlib.util.spec_from_file_location(
        "compile_fn", ROOT / "functions/networks/compile.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ok = module.handler({"graph": TWO_INPUTS.model_dump(mode="json")})
    assert ok["result"]["parameter_count"] == 37
    broken = graph([node("a", "Input", shape=[4]), node("c", "Concatenate")], [("a", "c")])
    refused = module.handler({"graph": broken.model_dump(mode="json")})
    assert refused["error"]["status"] == 422 and refused["error"]["code"] == "invalid_graph"


def test_a_model_too_large_to_build_is_refused_before_keras() -> None:
    huge = graph(
        [node("a", "Input", shape=[100_000]), node("d", "Dense", units=100_000)], [("a", "d")]
    )
    with pytest.raises(ModelTooLarge) as raised:
        compile_graph(huge)
    assert raised.value.status == 422 and raised.value.details["node"] == "d"
