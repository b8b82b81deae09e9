"""Predicting with a trained job's final model (the predict function's; it imports Keras).

The saved model standardises its inputs itself (the trainer put the training split's
statistics in it), so rows go in as the dataset holds them: numbers, booleans as 0/1, a
datetime the model takes by the calendar as its ISO text or its seconds.
Models are kept per job in the process, as a warm function keeps them.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from sluice import aws
from sluice.config import settings
from sluice.errors import Conflict, Unprocessable
from sluice.networks.compile import load_keras
from sluice.training.checks import UNKNOWN_INDEX
from sluice.training.data import calendar
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


def _calendar(value: Any, where: str) -> list[float]:
    """A calendared datetime's values (``data.calendar``) from its ISO text or its seconds
    since the epoch."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise Unprocessable(
                f"{where}: {value!r} is not an ISO 8601 datetime", {"field": where}
            ) from None
        if moment.tzinfo is not None:  # sluice's datetimes are UTC, without a zone
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        micros = (moment - datetime(1970, 1, 1)) // timedelta(microseconds=1)
    else:
        micros = round(_number(value, where) * 1e6)
    column = pa.array([micros], pa.int64()).cast(pa.timestamp("us"))
    return [float(v) for v in calendar(column)[0]]


def _values(
    value: Any,
    column: str,
    where: str,
    vocab: dict[str, list[str]],
    index: bool,
    calendared: frozenset[str] = frozenset(),
) -> list[float]:
    """One column's values of a row: a number; a category one-hot over its values, or its
    index where the input feeds an Embedding (a value training never saw: the unknown
    index, as the model learnt it for missing values); a calendared datetime's seven."""
    if column in calendared:
        return _calendar(value, where)
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
    calendared: frozenset[str] = frozenset(),
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
                        for v in _values(
                            row.get(c), c, f"{where}.{c}", vocab, node in indexed, calendared
                        )
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
                    for v in _values(cell, c, where, vocab, node in indexed, calendared)
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
    rows = model_inputs(
        request.body, saved.inputs, saved.categories, saved.indexed, saved.calendared
    )
    outputs = np.asarray(model.predict(rows, verbose=0))
    classes = saved.classes
    named = [classes[i] for i in outputs.argmax(axis=-1)] if classes else None
    return PredictResult(predictions=outputs.tolist(), classes=named)
