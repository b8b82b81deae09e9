"""Predictions from a trained job: what the api accepts and answers, and how it asks the
function that has TensorFlow (no TensorFlow here: the api imports this module)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sluice import aws
from sluice.networks.compile_models import NetworksUnavailable, RefusedByFunction

MAX_ROWS = 1000

Value = float | int | bool | str | None


class PredictBody(BaseModel):
    """Rows to predict: ``instances`` (each the input columns' values in x_columns order;
    for several inputs, all inputs' columns one after another) or ``records`` (each a map
    of column name to value)."""

    model_config = ConfigDict(extra="forbid")

    instances: list[list[Value]] | None = Field(None, min_length=1, max_length=MAX_ROWS)
    records: list[dict[str, Value]] | None = Field(None, min_length=1, max_length=MAX_ROWS)

    @model_validator(mode="after")
    def _one_of(self) -> PredictBody:
        if (self.instances is None) == (self.records is None):
            raise ValueError("give instances or records (one of them)")
        return self


class PredictRequest(BaseModel):
    """The predict function's event."""

    owner: str
    job_id: str
    body: PredictBody


class PredictResult(BaseModel):
    predictions: list[Any] = Field(description="The model's outputs, one per row.")
    classes: list[str] | None = Field(
        None, description="For a category label: each row's most likely class."
    )


def predict_remote(function: str, request: PredictRequest) -> PredictResult:
    """Ask the function ``function`` (name or ARN), which has TensorFlow, to predict."""
    answer = aws.client("lambda").invoke(
        FunctionName=function,
        InvocationType="RequestResponse",
        Payload=request.model_dump_json().encode(),
    )
    payload = answer["Payload"].read()
    if answer.get("FunctionError"):
        raise NetworksUnavailable("the predict function failed; try again later")
    body = json.loads(payload)
    if "error" in body:
        error = body["error"]
        raise RefusedByFunction(error["status"], error["code"], error["message"], error["details"])
    return PredictResult.model_validate(body["result"])
