"""Graph validation: pure logic over a graph and the layers manifest.

MAID's rules (no nodes, unknown layer types, duplicate ids, no input or output node, a
root with no input shape, edges naming unknown nodes, cycles, missing required
parameters) and sluice's (unknown parameters, each value's type, allowed values and
range, inbound edge counts such as a merge of fewer than two, and shapes where they are
known without TensorFlow: ``networks.shapes``). Every problem is reported, each naming
its node (and parameter) or edge.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, cast

from sluice.networks import manifests
from sluice.networks.graph_models import GraphBody, GraphCheck, Node, Problem, ProblemCode
from sluice.networks.manifest_models import (
    ManifestEntry,
    ManifestKind,
    ParamSpec,
    ParamType,
    ValueRange,
)
from sluice.networks.param_checks import value_problem
from sluice.networks.shapes import Shape, ShapeError, output_shape

INPUT_LAYER = "InputLayer"
ROOT_SHAPE = ParamSpec(
    name="input_shape",
    kind="KEYWORD_ONLY",
    required=False,
    type=ParamType.SHAPE,
    nullable=False,
    value_range=ValueRange(min=1),
    doc="MAID's shorthand: a first layer's input shape, as if an InputLayer preceded it.",
)
"""The one parameter a root layer other than an InputLayer may carry."""

Lookup = Callable[[str], ManifestEntry | None]


def _layer(name: str) -> ManifestEntry | None:
    return manifests.find(ManifestKind.LAYERS, name)


def topological_order(ids: list[str], edges: list[tuple[str, str]]) -> list[str]:
    """Kahn's algorithm: nodes in ``ids`` order as they become free, each after all of its
    sources. Nodes on or after a cycle are left out."""
    indegree = dict.fromkeys(ids, 0)
    targets: dict[str, list[str]] = {node: [] for node in ids}
    for source, target in edges:
        indegree[target] += 1
        targets[source].append(target)
    ready = deque(node for node in ids if indegree[node] == 0)
    order: list[str] = []
    while ready:
        node = ready.popleft()
        order.append(node)
        for target in targets[node]:
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    return order


def _a_cycle(left: list[str], sources: dict[str, list[str]]) -> list[str]:
    """One cycle among the nodes Kahn left: each has a source among them, so walking
    sources back from any must come round."""
    remaining = set(left)
    seen: dict[str, int] = {}
    path: list[str] = []
    node = left[0]
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = next(source for source in sources[node] if source in remaining)
    return list(reversed(path[seen[node] :]))


def _param_problems(node: Node, entry: ManifestEntry, root: bool) -> list[Problem]:
    problems = []
    declared = {param.name: param for param in entry.parameters}
    if root and entry.name != INPUT_LAYER:
        declared.setdefault(ROOT_SHAPE.name, ROOT_SHAPE)
    for name, value in node.params.items():
        spec = declared.get(name)
        if spec is None:
            problems.append(
                Problem(
                    code=ProblemCode.UNKNOWN_PARAMETER,
                    node=node.id,
                    parameter=name,
                    message=f"node {node.id}: {entry.name} has no parameter {name!r}",
                )
            )
            continue
        problem = value_problem(spec, value)
        if problem:
            problems.append(
                Problem(
                    code=ProblemCode.INVALID_PARAMETER,
                    node=node.id,
                    parameter=name,
                    message=f"node {node.id}: {name} {problem}",
                )
            )
    for param in entry.parameters:
        if param.required and param.name not in node.params:
            problems.append(
                Problem(
                    code=ProblemCode.MISSING_PARAMETER,
                    node=node.id,
                    parameter=param.name,
                    message=f"node {node.id}: {entry.name} needs {param.name}",
                )
            )
    return problems


def _arity_problem(node: Node, entry: ManifestEntry, count: int) -> Problem | None:
    arity = entry.inputs
    if arity is None or (count == 0 and arity.min < 2):  # a root: see _root_problem
        return None
    if entry.name == INPUT_LAYER:
        wanted = "no inbound edge"
    elif count < arity.min:
        wanted = f"at least {arity.min} inputs"
    elif arity.max is not None and count > arity.max:
        wanted = "one input" if arity.max == 1 else f"at most {arity.max} inputs"
    else:
        return None
    return Problem(
        code=ProblemCode.INPUT_COUNT,
        node=node.id,
        message=f"node {node.id}: {entry.name} takes {wanted}, it has {count}",
    )


def _root_problem(node: Node, entry: ManifestEntry) -> Problem | None:
    if entry.name == INPUT_LAYER:
        if node.params.get("shape") is None and node.params.get("batch_shape") is None:
            return Problem(
                code=ProblemCode.MISSING_INPUT_SHAPE,
                node=node.id,
                parameter="shape",
                message=f"node {node.id}: an InputLayer needs a shape",
            )
        return None
    if node.params.get(ROOT_SHAPE.name) is None:
        return Problem(
            code=ProblemCode.MISSING_INPUT_SHAPE,
            node=node.id,
            parameter=ROOT_SHAPE.name,
            message=(
                f"node {node.id} has no inbound edge and no input shape: connect it, "
                "start it from an InputLayer, or give it input_shape"
            ),
        )
    return None


def _root_shape(node: Node, entry: ManifestEntry) -> Shape:
    """A root's input shape (its parameters have passed their checks: a list of dims)."""
    if entry.name != INPUT_LAYER:
        return cast(Shape, node.params[ROOT_SHAPE.name])
    shape = node.params.get("shape")
    if shape is None:
        return cast(Shape, node.params["batch_shape"])[1:]
    return cast(Shape, shape)


def _shapes(
    order: list[str],
    nodes: dict[str, Node],
    entries: dict[str, ManifestEntry],
    sources: dict[str, list[str]],
) -> tuple[dict[str, Shape | None], list[Problem]]:
    shapes: dict[str, Shape | None] = {}
    problems = []
    for node_id in order:
        node, entry = nodes[node_id], entries[node_id]
        params: dict[str, Any] = {
            **{param.name: param.default for param in entry.parameters},
            **node.params,
        }
        if sources[node_id]:
            inputs = [shapes[source] for source in sources[node_id]]
        else:
            inputs = [_root_shape(node, entry)]
        if entry.name == INPUT_LAYER:
            shapes[node_id] = inputs[0]
            continue
        known = [shape for shape in inputs if shape is not None]
        try:
            shapes[node_id] = (
                output_shape(entry.name, params, known) if len(known) == len(inputs) else None
            )
        except ShapeError as exc:
            shapes[node_id] = None
            problems.append(
                Problem(code=ProblemCode.SHAPE, node=node_id, message=f"node {node_id}: {exc}")
            )
    return shapes, problems


def check_graph(
    graph: GraphBody, layer: Lookup = _layer
) -> tuple[GraphCheck | None, list[Problem]]:
    """The graph's reading when it is valid, else None and every problem found."""
    if not graph.nodes:
        return None, [Problem(code=ProblemCode.NO_NODES, message="the graph has no nodes")]
    problems: list[Problem] = []
    nodes: dict[str, Node] = {}
    for node in graph.nodes:
        if node.id in nodes:
            problems.append(
                Problem(
                    code=ProblemCode.DUPLICATE_NODE_ID,
                    node=node.id,
                    message=f"node id {node.id} is used more than once",
                )
            )
        else:
            nodes[node.id] = node
    entries: dict[str, ManifestEntry] = {}
    for node in nodes.values():
        entry = layer(node.type)
        if entry is None:
            problems.append(
                Problem(
                    code=ProblemCode.UNKNOWN_LAYER,
                    node=node.id,
                    message=f"node {node.id}: {node.type!r} is not a supported layer type",
                )
            )
        else:
            entries[node.id] = entry
    edges: list[tuple[str, str]] = []
    for index, edge in enumerate(graph.edges):
        unknown = [end for end in (edge.source, edge.target) if end not in nodes]
        if unknown:
            problems.append(
                Problem(
                    code=ProblemCode.UNKNOWN_NODE,
                    edge=index,
                    edge_id=edge.id,
                    node=unknown[0],
                    message=f"edge {edge.id or index} names no node {unknown[0]!r}",
                )
            )
        else:
            edges.append((edge.source, edge.target))
    ids = list(nodes)
    sources: dict[str, list[str]] = {node: [] for node in ids}
    has_target: set[str] = set()
    for source, target in edges:
        sources[target].append(source)
        has_target.add(source)
    inputs = [node for node in ids if not sources[node]]
    outputs = [node for node in ids if node not in has_target]
    if not inputs:
        problems.append(Problem(code=ProblemCode.NO_INPUT, message="no node is an input"))
    if not outputs:
        problems.append(Problem(code=ProblemCode.NO_OUTPUT, message="no node is an output"))
    order = topological_order(ids, edges)
    if len(order) < len(ids):
        cycle = _a_cycle([node for node in ids if node not in set(order)], sources)
        problems.append(
            Problem(
                code=ProblemCode.CYCLE,
                node=cycle[0],
                message="the edges form a cycle: " + " -> ".join([*cycle, cycle[0]]),
            )
        )
    for node_id, entry in entries.items():
        node, root = nodes[node_id], not sources[node_id]
        found = [
            _root_problem(node, entry) if root else None,
            _arity_problem(node, entry, len(sources[node_id])),
        ]
        problems.extend(problem for problem in found if problem)
        problems.extend(_param_problems(node, entry, root))
    if problems:
        return None, problems
    shapes, shape_problems = _shapes(order, nodes, entries, sources)
    if shape_problems:
        return None, shape_problems
    return GraphCheck(order=order, inputs=inputs, outputs=outputs, shapes=shapes), []
