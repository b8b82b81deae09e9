"""Graph validation: one test per rule (MAID's, then sluice's), and Kahn's order."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sluice.networks.graph_models import GraphBody, Problem, ProblemCode
from sluice.networks.validation import check_graph, topological_order


def node(node_id: str, layer: str, **params: Any) -> dict[str, Any]:
    return {"id": node_id, "type": layer, "params": params, "position": {"x": 0, "y": 0}}


def edge(source: str, target: str, edge_id: str | None = None) -> dict[str, Any]:
    return {"source": source, "target": target, "id": edge_id}


def graph(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> GraphBody:
    return GraphBody.model_validate({"name": "g", "nodes": nodes, "edges": edges})


def chain(*nodes: dict[str, Any]) -> GraphBody:
    ids = [n["id"] for n in nodes]
    return graph(list(nodes), [edge(a, b) for a, b in itertools.pairwise(ids)])


def problems(body: GraphBody) -> list[Problem]:
    check, found = check_graph(body)
    assert check is None, "expected the graph to be invalid"
    return found


def only(body: GraphBody, code: ProblemCode) -> Problem:
    found = problems(body)
    assert [p.code for p in found] == [code], found
    return found[0]


MLP = [
    node("in", "Input", shape=[8]),
    node("d1", "Dense", units=16, activation="relu"),
    node("drop", "Dropout", rate=0.5),
    node("out", "Dense", units=1, activation="sigmoid"),
]


def test_a_valid_graph_reads_in_order_with_shapes() -> None:
    check, found = check_graph(chain(*MLP))
    assert found == [] and check is not None
    assert check.order == ["in", "d1", "drop", "out"]
    assert check.inputs == ["in"] and check.outputs == ["out"]
    assert check.shapes == {"in": [8], "d1": [16], "drop": [16], "out": [1]}


def test_kahn_orders_sources_first_in_node_order() -> None:
    order = topological_order(["c", "a", "b"], [("a", "c"), ("b", "c")])
    assert order == ["a", "b", "c"]
    assert topological_order(["a", "b"], [("a", "b"), ("b", "a")]) == []


# MAID's rules


def test_no_nodes() -> None:
    assert only(graph([], []), ProblemCode.NO_NODES)


def test_unsupported_layer_type() -> None:
    found = only(chain(MLP[0], node("x", "NoSuchLayer")), ProblemCode.UNKNOWN_LAYER)
    assert found.node == "x"


def test_a_layer_the_manifest_leaves_out_is_unsupported() -> None:
    assert only(chain(MLP[0], node("l", "Lambda")), ProblemCode.UNKNOWN_LAYER).node == "l"


def test_duplicate_node_ids() -> None:
    body = graph(
        [MLP[0], node("d1", "Dense", units=2), node("d1", "Dense", units=3)], [edge("in", "d1")]
    )
    assert only(body, ProblemCode.DUPLICATE_NODE_ID).node == "d1"


def test_no_input_node() -> None:
    body = graph(
        [node("a", "Dense", units=1), node("b", "Dense", units=1)],
        [edge("a", "b"), edge("b", "a")],
    )
    assert ProblemCode.NO_INPUT in [p.code for p in problems(body)]


def test_no_output_node() -> None:
    body = graph(
        [MLP[0], node("a", "Dense", units=1), node("b", "Dense", units=1)],
        [edge("in", "a"), edge("a", "b"), edge("b", "a")],
    )
    codes = [p.code for p in problems(body)]
    assert ProblemCode.NO_OUTPUT in codes


def test_a_root_with_no_input_shape() -> None:
    found = only(chain(node("d", "Dense", units=4)), ProblemCode.MISSING_INPUT_SHAPE)
    assert found.node == "d" and found.parameter == "input_shape"


def test_an_input_layer_with_no_shape() -> None:
    found = only(chain(node("in", "InputLayer"), MLP[1]), ProblemCode.MISSING_INPUT_SHAPE)
    assert found.node == "in" and found.parameter == "shape"


def test_maids_input_shape_on_a_first_layer_is_taken() -> None:
    check, found = check_graph(chain(node("d", "Dense", units=4, input_shape=[3])))
    assert found == [] and check is not None and check.shapes == {"d": [4]}


def test_edges_naming_unknown_nodes() -> None:
    body = graph(MLP, [edge("in", "d1"), edge("d1", "ghost", "e9")])
    found = [p for p in problems(body) if p.code is ProblemCode.UNKNOWN_NODE]
    assert len(found) == 1
    assert found[0].node == "ghost" and found[0].edge == 1 and found[0].edge_id == "e9"


def test_cycles() -> None:
    body = graph(
        [MLP[0], node("a", "Add"), node("b", "Dense", units=8), node("o", "Dense", units=1)],
        [edge("in", "a"), edge("b", "a"), edge("a", "b"), edge("b", "o")],
    )
    found = only(body, ProblemCode.CYCLE)
    assert found.node in ("a", "b") and ("a -> b" in found.message or "b -> a" in found.message)


def test_missing_required_parameters() -> None:
    found = only(chain(MLP[0], node("d", "Dense")), ProblemCode.MISSING_PARAMETER)
    assert found.node == "d" and found.parameter == "units"


# sluice's rules


def test_unknown_parameters() -> None:
    found = only(chain(MLP[0], node("d", "Dense", units=2, unit=3)), ProblemCode.UNKNOWN_PARAMETER)
    assert found.node == "d" and found.parameter == "unit"


@pytest.mark.parametrize(
    ("params", "parameter", "says"),
    [
        ({"units": "64"}, "units", "an integer"),
        ({"units": 2.5}, "units", "an integer"),
        ({"units": 2, "use_bias": "yes"}, "use_bias", "a boolean"),
        ({"units": None}, "units", "not be null"),
    ],
)
def test_parameter_types(params: dict[str, Any], parameter: str, says: str) -> None:
    found = only(chain(MLP[0], node("d", "Dense", **params)), ProblemCode.INVALID_PARAMETER)
    assert found.node == "d" and found.parameter == parameter and says in found.message


def test_enum_values() -> None:
    conv = node("c", "Conv2D", filters=4, kernel_size=3, padding="full")
    body = chain(node("in", "Input", shape=[8, 8, 1]), conv)
    found = only(body, ProblemCode.INVALID_PARAMETER)
    assert found.parameter == "padding" and "'valid', 'same'" in found.message


def test_activation_names_come_from_the_activations_manifest() -> None:
    body = chain(MLP[0], node("d", "Dense", units=2, activation="relux"))
    assert only(body, ProblemCode.INVALID_PARAMETER).parameter == "activation"


@pytest.mark.parametrize(
    ("layer", "params", "parameter"),
    [
        ("Dense", {"units": 0}, "units"),
        ("Dropout", {"rate": 1.5}, "rate"),
        ("Dropout", {"rate": -0.1}, "rate"),
    ],
)
def test_value_ranges(layer: str, params: dict[str, Any], parameter: str) -> None:
    found = only(chain(MLP[0], node("n", layer, **params)), ProblemCode.INVALID_PARAMETER)
    assert found.node == "n" and found.parameter == parameter


def test_each_int_of_a_tuple_is_in_range() -> None:
    conv = node("c", "Conv2D", filters=4, kernel_size=[3, 0])
    body = chain(node("in", "Input", shape=[8, 8, 1]), conv)
    assert only(body, ProblemCode.INVALID_PARAMETER).parameter == "kernel_size"


def test_a_merge_of_fewer_than_two_inputs() -> None:
    body = chain(MLP[0], node("cat", "Concatenate"))
    found = only(body, ProblemCode.INPUT_COUNT)
    assert found.node == "cat" and "at least 2" in found.message


def test_a_one_input_layer_with_two_inbound_edges() -> None:
    body = graph(
        [MLP[0], node("a", "Dense", units=2), node("b", "Dense", units=2)],
        [edge("in", "a"), edge("in", "b"), edge("a", "b")],
    )
    assert only(body, ProblemCode.INPUT_COUNT).node == "b"


def test_an_input_with_an_inbound_edge() -> None:
    body = graph([MLP[0], node("in2", "Input", shape=[2])], [edge("in", "in2")])
    assert only(body, ProblemCode.INPUT_COUNT).node == "in2"


def test_two_inputs_concatenated() -> None:
    body = graph(
        [
            node("a", "Input", shape=[4]),
            node("b", "Input", shape=[6]),
            node("cat", "Concatenate"),
            node("out", "Dense", units=1),
        ],
        [edge("a", "cat"), edge("b", "cat"), edge("cat", "out")],
    )
    check, found = check_graph(body)
    assert found == [] and check is not None
    assert check.inputs == ["a", "b"] and check.shapes["cat"] == [10]


def test_shapes_that_cannot_concatenate() -> None:
    body = graph(
        [
            node("a", "Input", shape=[4, 3]),
            node("b", "Input", shape=[5, 3]),
            node("c", "Concatenate"),
        ],
        [edge("a", "c"), edge("b", "c")],
    )
    found = only(body, ProblemCode.SHAPE)
    assert found.node == "c"


def test_shapes_that_cannot_add() -> None:
    body = graph(
        [node("a", "Input", shape=[4]), node("b", "Input", shape=[5]), node("s", "Add")],
        [edge("a", "s"), edge("b", "s")],
    )
    assert only(body, ProblemCode.SHAPE).node == "s"


def test_a_dense_output_into_a_convolution_is_a_shape_problem() -> None:
    body = chain(MLP[0], node("c", "Conv2D", filters=2, kernel_size=3))
    found = only(body, ProblemCode.SHAPE)
    assert found.node == "c" and "rank 3" in found.message


def test_convolution_and_pooling_shapes() -> None:
    body = chain(
        node("in", "Input", shape=[28, 28, 1]),
        node("c", "Conv2D", filters=8, kernel_size=3),
        node("p", "MaxPooling2D"),
        node("s", "Conv2D", filters=4, kernel_size=3, padding="same", strides=2),
        node("f", "Flatten"),
        node("o", "Dense", units=10),
    )
    check, found = check_graph(body)
    assert found == [] and check is not None
    assert check.shapes["c"] == [26, 26, 8] and check.shapes["p"] == [13, 13, 8]
    assert check.shapes["s"] == [7, 7, 4] and check.shapes["f"] == [196]


def test_a_reshape_of_the_wrong_size() -> None:
    body = chain(node("in", "Input", shape=[12]), node("r", "Reshape", target_shape=[5, 3]))
    assert only(body, ProblemCode.SHAPE).node == "r"


def test_unknown_dimensions_and_unlisted_layers_stay_unknown() -> None:
    body = chain(
        node("in", "Input", shape=[None, 4]),
        node("l", "LSTM", units=3, return_sequences=True),
        node("z", "ZeroPadding1D"),
        node("d", "Dense", units=2),
    )
    check, found = check_graph(body)
    assert found == [] and check is not None
    assert (
        check.shapes["l"] == [None, 3] and check.shapes["z"] is None and check.shapes["d"] is None
    )


def test_every_problem_is_reported_at_once() -> None:
    body = graph(
        [MLP[0], node("d", "Dense", units=0, bogus=1), node("x", "Nope")],
        [edge("in", "d"), edge("d", "y")],
    )
    codes = sorted(p.code.value for p in problems(body))
    assert codes == ["invalid_parameter", "unknown_layer", "unknown_node", "unknown_parameter"]
