"""A network graph as a canvas draws it: layer nodes joined by edges; the record that
stores it, and what validation answers."""

from __future__ import annotations

import json
import math
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

MAX_NODES = 500
MAX_EDGES = 2000
_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$"
MAX_PARAMS_CHARS = 10_000
_MAX_MAGNITUDE, _MIN_MAGNITUDE = 1e100, 1e-100
"""Numbers a DynamoDB item holds (its decimals span 1e-130..1e126, 38 digits)."""


def _number_problem(value: Any) -> str | None:
    """Why a parameter value cannot be stored as it is, or None."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return None
    if isinstance(value, int):
        return None if abs(value) <= 2**53 else f"{value} is too large (at most 2**53)"
    if isinstance(value, float):
        size = abs(value)
        if not math.isfinite(value) or size > _MAX_MAGNITUDE or 0 < size < _MIN_MAGNITUDE:
            return f"{value!r} is out of the range 1e-100..1e100"
        return None
    items = value.values() if isinstance(value, dict) else value
    return next((p for p in (_number_problem(item) for item in items) if p), None)


class Framework(StrEnum):
    KERAS = "keras"
    TENSORFLOW = "tensorflow"
    """MAID's name for the same thing: Keras on TensorFlow."""


class Position(BaseModel):
    """Where the canvas draws the node; never read by the model."""

    model_config = ConfigDict(extra="forbid")

    x: float = Field(ge=-1e9, le=1e9)
    y: float = Field(ge=-1e9, le=1e9)

    @field_validator("x", "y")
    @classmethod
    def _storable(cls, value: float) -> float:
        return 0.0 if abs(value) < _MIN_MAGNITUDE else value  # DynamoDB holds no 1e-200


class Node(BaseModel):
    """One layer: its Keras type (a layers manifest name or alias) and parameters."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_ID, description="Unique in the graph.")
    type: str = Field(min_length=1, max_length=100, examples=["Dense"])
    params: dict[str, JsonValue] = Field(default_factory=dict, examples=[{"units": 64}])
    position: Position
    label: str | None = Field(None, max_length=200)

    @field_validator("params")
    @classmethod
    def _storable(cls, params: dict[str, JsonValue]) -> dict[str, JsonValue]:
        if len(json.dumps(params)) > MAX_PARAMS_CHARS:
            raise ValueError(f"params take at most {MAX_PARAMS_CHARS} characters as JSON")
        problem = _number_problem(params)
        if problem:
            raise ValueError(problem)
        return params


class Edge(BaseModel):
    """The output of ``source`` feeds ``target``; a target with several inbound edges gets
    them in edge order (Concatenate's order)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, pattern=_ID)
    source: str = Field(min_length=1, max_length=100)
    target: str = Field(min_length=1, max_length=100)


class GraphBody(BaseModel):
    """A whole graph, as POST, PUT and validate take it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    framework: Framework = Framework.KERAS
    nodes: list[Node] = Field(default_factory=list, max_length=MAX_NODES)
    edges: list[Edge] = Field(default_factory=list, max_length=MAX_EDGES)


class GraphPatch(BaseModel):
    """What PATCH changes; the graph that results is validated as a whole."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    framework: Framework | None = None
    nodes: list[Node] | None = Field(None, max_length=MAX_NODES)
    edges: list[Edge] | None = Field(None, max_length=MAX_EDGES)


class Graph(GraphBody):
    """A stored graph."""

    model_config = ConfigDict(extra="ignore")

    id: str
    created_at: datetime
    updated_at: datetime


class GraphPage(BaseModel):
    items: list[Graph]
    next_token: str | None = None


class ProblemCode(StrEnum):
    NO_NODES = "no_nodes"
    UNKNOWN_LAYER = "unknown_layer"
    DUPLICATE_NODE_ID = "duplicate_node_id"
    NO_INPUT = "no_input"
    NO_OUTPUT = "no_output"
    MISSING_INPUT_SHAPE = "missing_input_shape"
    UNKNOWN_NODE = "unknown_node"
    CYCLE = "cycle"
    MISSING_PARAMETER = "missing_parameter"
    UNKNOWN_PARAMETER = "unknown_parameter"
    INVALID_PARAMETER = "invalid_parameter"
    INPUT_COUNT = "input_count"
    """Too few or too many inbound edges: a merge of one, an input with a parent."""
    SHAPE = "shape"


class Problem(BaseModel):
    """One thing wrong with a graph, naming where: a node (and parameter) or an edge."""

    code: ProblemCode
    message: str
    node: str | None = None
    parameter: str | None = None
    edge: int | None = Field(None, description="The edge's index in `edges`.")
    edge_id: str | None = None


class GraphCheck(BaseModel):
    """A valid graph's reading: nodes in topological order, its inputs and outputs, and
    each node's output shape where it is known without TensorFlow (null dims: unknown)."""

    valid: bool = True
    order: list[str]
    inputs: list[str]
    outputs: list[str]
    shapes: dict[str, list[int | None] | None]


def problem_details(problems: list[Problem]) -> list[dict[str, Any]]:
    """Problems as the error envelope's details (no empty fields)."""
    return [problem.model_dump(mode="json", exclude_none=True) for problem in problems]
