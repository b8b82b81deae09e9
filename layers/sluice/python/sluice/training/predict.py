"""Predicting with a trained job's final model (the predict function's; it imports Keras).

The saved model standardises its inputs itself (the trainer put the training split's
statistics in it), so rows go in as the dataset holds them: numbers, booleans as 0/1.
Models are kept per job in the process, as a warm function keeps them.
"""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from sluice import aws
from sluice.config import settings
from sluice.errors import Conflict, Unprocessable
from sluice.networks.compile import load_keras
from sluice.training.checks import UNKNOWN_INDEX
from sluice.training.models import TrainingStatus, job_prefix
from sluice.training.predict_models import PredictBody, PredictRequest, PredictResult
from sluice.training.prediction_models import load_preprocessing
from sluice.training.repository import TrainingJobRepository


@lru_cache(maxsize=8)
def _model(bucket: str, key: str) -> Any:
    path = Path(tempfile.mkdtemp(prefix="sluice-predict-")) / "model.keras"
    aws.client("s3").download_file(bucket, key, str(path))
    return load_keras().models.load_model(str(path))


def _number(value: Any, where: str) -> float:
    if value is None:
        raise Unprocessable(f"{where}: a value is missing", {"field": where})
    try:
        return float(value)
    except (TypeError, ValueError):
        raise Unprocessable(f"{where}: {value!r} is not a number", {"field": where}) from None


def _values(
    value: Any, column: str, where: str, vocab: dict[str, list[str]], index: bool
) -> list[float]:
    """One column's values of a row: a number; a category one-hot over its values, or its
    index where the input feeds an Embedding (a value training never saw: the unknown
    index, as the model learnt it for missing values)."""
    if column not in vocab:
        return [_number(value, where)]
    values = vocab[column]
    if index:
        text = None if value is None else str(value)
        return [float(values.index(text) + 1) if text in values else float(UNKNOWN_INDEX)]
    if value is None or str(value) not in values:
        raise Unprocessable(
            f"{where}: {value!r} is not one of column {column!r}'s values {values}",
            {"field": where},
        )
    return [1.0 if str(value) == known else 0.0 for known in values]


def model_inputs(
    body: PredictBody,
    inputs: dict[str, list[str]],
    vocab: dict[str, list[str]] | None = None,
    indexed: frozenset[str] = frozenset(),
) -> dict[str, np.ndarray]:
    """The rows as the model's inputs (one float32 array per input node)."""
    vocab = vocab or {}
    width = sum(len(columns) for columns in inputs.values())
    arrays: dict[str, list[list[float]]] = {node: [] for node in inputs}
    for row_number, row in enumerate(body.instances or body.records or []):
        if isinstance(row, dict):
            for node, columns in inputs.items():
                where = f"records[{row_number}]"
                arrays[node].append(
                    [
                        v
                        for c in columns
                        for v in _values(row.get(c), c, f"{where}.{c}", vocab, node in indexed)
                    ]
                )
            continue
        cells = list(row)
        if len(cells) != width:
            raise Unprocessable(
                f"instances[{row_number}] has {len(cells)} values; the model takes {width}",
                {"field": f"instances[{row_number}]"},
            )
        at = 0
        for node, columns in inputs.items():
            values = cells[at : at + len(columns)]
            where = f"instances[{row_number}]"
            arrays[node].append(
                [
                    v
                    for c, cell in zip(columns, values, strict=True)
                    for v in _values(cell, c, where, vocab, node in indexed)
                ]
            )
            at += len(columns)
    return {node: np.asarray(rows, dtype=np.float32) for node, rows in arrays.items()}


def predict(request: PredictRequest) -> PredictResult:
    """The job's final model's outputs for the rows (409 unless the job succeeded)."""
    cfg = settings()
    job = TrainingJobRepository(cfg.table).get(request.owner, request.job_id)
    if job.status is not TrainingStatus.SUCCEEDED or not job.artifacts.final:
        raise Conflict(
            f"training job {job.id} has no trained model (status {job.status.value})",
            {"status": job.status.value},
        )
    prefix = job_prefix(job.owner, job.id)
    saved = load_preprocessing(cfg.data_bucket, f"{prefix}{job.artifacts.preprocessing}")
    model = _model(cfg.data_bucket, f"{prefix}{job.artifacts.final}")
    rows = model_inputs(request.body, saved.inputs, saved.categories, saved.indexed)
    outputs = np.asarray(model.predict(rows, verbose=0))
    classes = saved.classes
    named = [classes[i] for i in outputs.argmax(axis=-1)] if classes else None
    return PredictResult(predictions=outputs.tolist(), classes=named)
