"""Compiling a graph into a Keras functional model (issue 19, item 3): what the
TensorFlow function runs, never the api Lambda (it imports Keras, inside its functions).

The graph is validated first (the same rules as a save); then each node, in Kahn's
order, becomes its manifest class called on its sources' tensors: one tensor, or a list
in edge order for a merge (Concatenate, Add), or positional tensors for attention
layers that take query and value apart. A Keras error is the client's graph at fault:
``Unprocessable`` with Keras's message, never a server error.
"""

from __future__ import annotations

import os
import re
from typing import Any, cast

from sluice.errors import Unprocessable
from sluice.networks import manifests
from sluice.networks.compile_models import CompileResult, TensorShape
from sluice.networks.graph_models import GraphBody, GraphCheck, Node
from sluice.networks.manifest_models import ManifestKind
from sluice.networks.service import validate_graph
from sluice.networks.sizes import layer_parameters
from sluice.networks.validation import INPUT_LAYER, ROOT_SHAPE

_POSITIONAL_INPUTS = frozenset({"MultiHeadAttention", "GroupQueryAttention"})
"""Layers called as ``layer(query, value[, key])`` rather than on a list."""
_MAX_MESSAGE = 2000
MAX_PARAMETERS = 100_000_000
"""The most weights a compile builds (400 MB of float32): the function's memory is 3 GB."""


class KerasError(Unprocessable):
    """Keras refused the graph: its own message, as the client's to fix."""

    code = "keras_error"


def load_keras() -> Any:
    """Keras on TensorFlow, imported on first use (seconds, once per process)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    return keras


def _input(keras: Any, node: Node, shape: list[int | None] | None = None) -> Any:
    params: dict[str, Any] = dict(node.params)  # checked by validation: shapes are lists
    if shape is None:
        batch_shape = params.pop("batch_shape", None)
        shape = params.pop("shape", None)
        if shape is None and batch_shape is not None:
            params["batch_size"] = batch_shape[0]
            shape = batch_shape[1:]
    params.pop("trainable", None)
    params.setdefault("name", node.id)
    return keras.Input(shape=tuple(shape or ()), **params)


def _layer(keras: Any, node: Node, class_name: str) -> Any:
    params = {name: value for name, value in node.params.items() if name != ROOT_SHAPE.name}
    params.setdefault("name", node.id)
    return getattr(keras.layers, class_name)(**params)


def _shape(tensor: Any) -> list[int | None]:
    return [None if dim is None else int(dim) for dim in tuple(tensor.shape)[1:]]


def _build(keras: Any, graph: GraphBody, order: list[str]) -> Any:
    nodes = {node.id: node for node in graph.nodes}
    sources: dict[str, list[str]] = {node_id: [] for node_id in nodes}
    has_target: set[str] = set()
    for edge in graph.edges:
        sources[edge.target].append(edge.source)
        has_target.add(edge.source)
    tensors: dict[str, Any] = {}
    inputs: list[Any] = []
    for node_id in order:
        node = nodes[node_id]
        entry = manifests.entry(ManifestKind.LAYERS, node.type)
        if entry.name == INPUT_LAYER:
            tensors[node_id] = _input(keras, node)
            inputs.append(tensors[node_id])
            continue
        if sources[node_id]:
            parents = [tensors[source] for source in sources[node_id]]
        else:  # MAID's input_shape on a first layer: an Input of that shape before it
            implicit = Node(id=f"{node_id}_input", type=INPUT_LAYER, position=node.position)
            root = _input(keras, implicit, cast(list[int | None], node.params[ROOT_SHAPE.name]))
            inputs.append(root)
            parents = [root]
        layer = _layer(keras, node, entry.name)
        if len(parents) == 1:
            tensors[node_id] = layer(parents[0])
        elif entry.name in _POSITIONAL_INPUTS:
            tensors[node_id] = layer(*parents)
        else:
            tensors[node_id] = layer(parents)
    outputs = [tensors[node_id] for node_id in order if node_id not in has_target]
    return keras.Model(inputs=inputs, outputs=outputs, name=_model_name(graph.name))


def _model_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "model"


_SUMMARY_WIDTH = 120


def _summary(model: Any) -> str:
    """Keras's summary as text, as wide as its columns need (rich, which draws it, would
    cut it at the 80 columns of a process with no terminal)."""
    lines: list[str] = []
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(_SUMMARY_WIDTH + 4)
    try:
        model.summary(
            line_length=_SUMMARY_WIDTH, print_fn=lambda line, *_, **__: lines.append(line)
        )
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before
    return "\n".join(lines).rstrip()


class ModelTooLarge(Unprocessable):
    code = "model_too_large"


def _check_size(graph: GraphBody, check: GraphCheck) -> None:
    """Refuse a graph whose known layers alone hold more than ``MAX_PARAMETERS``."""
    sources: dict[str, list[str]] = {node.id: [] for node in graph.nodes}
    for edge in graph.edges:
        sources[edge.target].append(edge.source)
    total, largest = 0, ("", 0)
    for node in graph.nodes:
        entry = manifests.entry(ManifestKind.LAYERS, node.type)
        params = {**{p.name: p.default for p in entry.parameters}, **node.params}
        inputs = [check.shapes.get(source) for source in sources[node.id]]
        if not inputs and ROOT_SHAPE.name in node.params:
            inputs = [cast(list[int | None], node.params[ROOT_SHAPE.name])]
        count = layer_parameters(entry.name, params, inputs)
        total += count
        largest = max(largest, (node.id, count), key=lambda item: item[1])
    if total > MAX_PARAMETERS:
        raise ModelTooLarge(
            f"the model would hold at least {total:,} parameters, over the {MAX_PARAMETERS:,} "
            f"a compile builds (node {largest[0]} alone {largest[1]:,})",
            {"node": largest[0], "parameters": total, "limit": MAX_PARAMETERS},
        )


def build_model(graph: GraphBody) -> tuple[Any, GraphCheck]:
    """The graph as a Keras functional model (the one builder: compile, import's round
    trip and training use it), with its validation's reading. ``GraphInvalid`` for a graph
    that breaks a rule, ``KerasError`` (422) with Keras's message for one Keras refuses."""
    check = validate_graph(graph)
    _check_size(graph, check)
    keras = load_keras()
    try:
        return _build(keras, graph, check.order), check
    except Exception as exc:  # whatever Keras raises, the graph described it
        message = " ".join(str(exc).split())[:_MAX_MESSAGE] or type(exc).__name__
        raise KerasError(
            f"Keras refused the graph: {message}", {"keras": type(exc).__name__}
        ) from exc


def compile_graph(graph: GraphBody) -> CompileResult:
    """The graph as a Keras functional model: its summary, parameter counts, and the
    shapes of its input and output tensors (errors as :func:`build_model`'s)."""
    model, check = build_model(graph)
    keras = load_keras()
    input_nodes = [node_id for node_id in check.order if node_id in set(check.inputs)]
    trainable = sum(int(keras.ops.size(weight)) for weight in model.trainable_weights)
    return CompileResult(
        summary=_summary(model),
        parameter_count=int(model.count_params()),
        trainable_parameter_count=trainable,
        inputs=[
            TensorShape(node=node_id, shape=_shape(tensor))
            for node_id, tensor in zip(input_nodes, model.inputs, strict=True)
        ],
        outputs=[
            TensorShape(node=node_id, shape=_shape(tensor))
            for node_id, tensor in zip(check.outputs, model.outputs, strict=True)
        ],
    )
