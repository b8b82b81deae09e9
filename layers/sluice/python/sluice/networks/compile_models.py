"""What a compile answers, and how the api asks the TensorFlow function for it (no
TensorFlow here: the api Lambda imports this module)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from sluice import aws
from sluice.errors import SluiceError
from sluice.networks.graph_models import GraphBody


class CompileRequest(BaseModel):
    """The TensorFlow function's compile event."""

    graph: GraphBody


class TensorShape(BaseModel):
    node: str
    shape: list[int | None]
    """Without the batch dimension."""


class CompileResult(BaseModel):
    """Keras's summary and parameter counts, and the shapes of the model's input and
    output tensors, each named by its node."""

    summary: str
    parameter_count: int
    trainable_parameter_count: int
    inputs: list[TensorShape]
    outputs: list[TensorShape]


class NetworksUnavailable(SluiceError):
    """The TensorFlow function failed to answer (not the graph's fault)."""

    status = 503
    code = "networks_unavailable"


class RefusedByFunction(SluiceError):
    """The function's answer for a graph it refused, with the status it chose (422)."""

    def __init__(self, status: int, code: str, message: str, details: Any) -> None:
        super().__init__(message, details)
        self.status, self.code = status, code


def compile_remote(function: str, graph: GraphBody) -> CompileResult:
    """Ask the TensorFlow function ``function`` (name or ARN) to compile ``graph``."""
    answer = aws.client("lambda").invoke(
        FunctionName=function,
        InvocationType="RequestResponse",
        Payload=CompileRequest(graph=graph).model_dump_json().encode(),
    )
    payload = answer["Payload"].read()
    if answer.get("FunctionError"):
        # Its traceback stays in its own log: a client learns only that it failed.
        raise NetworksUnavailable("the compile function failed; try again later")
    body = json.loads(payload)
    if "error" in body:
        error = body["error"]
        raise RefusedByFunction(error["status"], error["code"], error["message"], error["details"])
    return CompileResult.model_validate(body["result"])
