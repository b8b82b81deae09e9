"""Graph operations behind the routes: every save is validated first."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sluice.errors import PayloadTooLarge, Unprocessable
from sluice.networks.compile_models import CompileResult, compile_remote
from sluice.networks.graph_models import (
    Graph,
    GraphBody,
    GraphCheck,
    GraphPatch,
    Problem,
    problem_details,
)
from sluice.networks.repository import GraphRepository
from sluice.networks.validation import check_graph

MAX_GRAPH_CHARS = 300_000
"""A graph as JSON, within one DynamoDB item (400 KB) with room for its attributes."""


class GraphInvalid(Unprocessable):
    """The graph breaks validation rules; ``details`` lists each problem."""

    code = "invalid_graph"

    def __init__(self, problems: list[Problem]) -> None:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(
            f"the graph is invalid: {problems[0].message}{more}", problem_details(problems)
        )


def validate_graph(body: GraphBody) -> GraphCheck:
    """The graph's reading (order, inputs, outputs, shapes); ``GraphInvalid`` (422) with
    every problem when it breaks a rule, 413 when it is too large to store."""
    size = len(body.model_dump_json())
    if size > MAX_GRAPH_CHARS:
        raise PayloadTooLarge(
            f"the graph takes {size} characters as JSON; at most {MAX_GRAPH_CHARS}",
            {"field": "body", "limit": MAX_GRAPH_CHARS},
        )
    check, problems = check_graph(body)
    if check is None:
        raise GraphInvalid(problems)
    return check


def create_graph(repo: GraphRepository, owner: str, body: GraphBody) -> Graph:
    """Validate and store a new graph."""
    validate_graph(body)
    now = datetime.now(UTC)
    graph = Graph(**body.model_dump(), id=uuid.uuid4().hex, created_at=now, updated_at=now)
    repo.create(owner, graph)
    return graph


def replace_graph(repo: GraphRepository, owner: str, graph_id: str, body: GraphBody) -> Graph:
    """Validate ``body`` and store it in place of the owner's graph (404 if none)."""
    current = repo.get(owner, graph_id)
    return _save(repo, owner, current, body)


def patch_graph(repo: GraphRepository, owner: str, graph_id: str, patch: GraphPatch) -> Graph:
    """Change the fields ``patch`` names; the graph that results must be valid."""
    current = repo.get(owner, graph_id)
    changes = {key: value for key, value in patch.model_dump().items() if value is not None}
    merged = GraphBody.model_validate(
        {**current.model_dump(include={"name", "framework", "nodes", "edges"}), **changes}
    )
    return _save(repo, owner, current, merged)


def _save(repo: GraphRepository, owner: str, current: Graph, body: GraphBody) -> Graph:
    validate_graph(body)
    updated = repo.replace(owner, Graph(**{**current.model_dump(), **body.model_dump()}))
    if updated is None:  # deleted meanwhile
        return repo.get(owner, current.id)
    return updated


def compile_graph(function: str, body: GraphBody) -> CompileResult:
    """Validate here (a broken graph never wakes TensorFlow), then compile in ``function``,
    the TensorFlow function: its answer, or its refusal (Keras's 422)."""
    validate_graph(body)
    return compile_remote(function, body)


def compile_stored(
    function: str, repo: GraphRepository, owner: str, graph_id: str
) -> CompileResult:
    """Compile the owner's stored graph (404 if none)."""
    graph = repo.get(owner, graph_id)
    body = GraphBody.model_validate(
        graph.model_dump(include={"name", "framework", "nodes", "edges"})
    )
    return compile_graph(function, body)
