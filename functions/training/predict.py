"""Predict with a trained job's model: rows in, the model's outputs out.

Runs where TensorFlow is (a container image in AWS, a worker locally), never in the api
Lambda. Rows the model cannot take, or a job without a model, are an answer (the api's
422 or 409), not a failure.
"""

from __future__ import annotations

from typing import Any

from sluice.errors import SluiceError
from sluice.training.predict import predict
from sluice.training.predict_models import PredictRequest

EVENT_MODEL = PredictRequest


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """``{owner, job_id, body}`` -> ``{"result": {...}}`` or ``{"error": {status, code,
    message, details}}``."""
    request = PredictRequest.model_validate(event)
    try:
        result = predict(request)
    except SluiceError as exc:
        error = {"status": exc.status, "code": exc.code, "message": exc.message}
        return {"error": {**error, "details": exc.details}}
    return {"result": result.model_dump(mode="json")}
