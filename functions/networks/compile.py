"""The TensorFlow function's compile: a graph in, Keras's summary and shapes out.

Runs where TensorFlow is installed (a container image in AWS, a worker locally), never
in the api Lambda. A graph the rules or Keras refuse is an answer, not a failure: the
api turns ``error`` into the same 422 a save would give.
"""

from __future__ import annotations

from typing import Any

from sluice.errors import SluiceError
from sluice.networks.compile import compile_graph
from sluice.networks.compile_models import CompileRequest

EVENT_MODEL = CompileRequest


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """``{"graph": {...}}`` -> ``{"result": {...}}`` or ``{"error": {status, code,
    message, details}}``."""
    request = CompileRequest.model_validate(event)
    try:
        result = compile_graph(request.graph)
    except SluiceError as exc:
        error = {"status": exc.status, "code": exc.code, "message": exc.message}
        return {"error": {**error, "details": exc.details}}
    return {"result": result.model_dump(mode="json")}
