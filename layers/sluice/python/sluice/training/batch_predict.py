"""The prediction worker: a trained job's model over a whole dataset (``python -m
sluice.training.batch_predict``; the predictor's Fargate task, locally a process that
``sluice.local.patches.ecs_tasks`` starts).

It reads the input's typed Parquet one row group at a time (only the columns it uses),
encodes each group as the trainer did (the same :func:`sluice.training.data.features`,
with the categories and Embedding indices saved in ``preprocessing.json``; the saved
model standardises its inputs itself), predicts it, and writes one output part per input
part, so that the output's rows are the input's, in order. The parts become a new ready
dataset (``sluice.datasets.derived.record_derived``). A row missing a value the model
needs gets null predictions rather than being left out: row i of the output is row i of
the input. As the trainer, it marks its job running, writes progress at most once a
second, never sets the final status (the state machine's Record does), writes its error
and exits 1 on a failure, and stops between row groups on SIGTERM (a cancel).
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import threading
import time
import uuid
from typing import Any

import numpy as np
import pyarrow as pa

from sluice import aws, heap
from sluice.config import settings
from sluice.datasets.derived import WrittenFile, record_derived
from sluice.datasets.lost_inputs import explained
from sluice.datasets.models import Dataset, ErrorInfo, SourceObject, utcnow
from sluice.datasets.repository import DatasetRepository
from sluice.datasets.rows import load_manifest
from sluice.datasets.workspace import Workspace
from sluice.ingest.parts import parquet_bytes
from sluice.step_errors import StepFailure
from sluice.store import objects
from sluice.training import data as feed
from sluice.training.models import TrainingJob, TrainingStatus, job_prefix
from sluice.training.prediction_models import (
    PREDICTED_CLASS,
    PREDICTION,
    PredictionChanges,
    PredictionJob,
    PredictionTimings,
    SavedPreprocessing,
    load_preprocessing,
)
from sluice.training.reporter import Reporter
from sluice.training.repository import PredictionJobRepository, TrainingJobRepository
from sluice.training.trainer import error_message

BATCH_ROWS = 8192
"""Rows per call into the model: bounds the activations' memory, whatever a group holds."""
OUTPUT_FOLDER = "predictions"


def model_rows(
    table: pa.Table, saved: SavedPreprocessing
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """A row group as the model's inputs, and which rows have every value it needs (a
    null number, or a category value a one-hot input never saw, is NaN)."""
    x = {
        node: feed.features(
            table, columns, saved.categories, node in saved.indexed, saved.calendared
        )
        for node, columns in saved.inputs.items()
    }
    complete = np.ones(table.num_rows, dtype=bool)
    for values in x.values():
        complete &= ~np.isnan(values).any(axis=1)
    return x, complete


def output_width(model: Any) -> int:
    """Values the model gives a row (its one output's shape, flattened)."""
    return int(np.prod([d or 1 for d in model.outputs[0].shape[1:]]))


def prediction_columns(
    outputs: np.ndarray, complete: np.ndarray, width: int, classes: list[str] | None
) -> dict[str, pa.Array]:
    """The output columns of a group's predictions (``outputs``: the complete rows'):
    ``prediction`` (one value a row) or ``prediction_<i>`` (``width`` of them, an output
    flattened), null where the row was incomplete; with a category label also
    ``predicted_class`` (the most likely class, a category column)."""
    full = np.zeros((complete.size, width), dtype=np.float32)
    full[complete] = outputs.reshape(-1, width)
    missing = ~complete
    names = [PREDICTION] if width == 1 else [f"{PREDICTION}_{i}" for i in range(width)]
    columns = {
        name: pa.array(full[:, i], type=pa.float32(), mask=missing) for i, name in enumerate(names)
    }
    if classes is not None:
        indices = pa.array(full.argmax(axis=1).astype(np.int32), mask=missing)
        columns[PREDICTED_CLASS] = pa.DictionaryArray.from_arrays(
            indices, pa.array(classes, pa.string())
        )
    return columns


def predict_groups(model: Any, x: dict[str, np.ndarray], complete: np.ndarray) -> np.ndarray:
    """The model's outputs for the complete rows, ``BATCH_ROWS`` at a time (one call into
    TensorFlow each, no ``tf.data`` pipeline built per group as ``predict`` does)."""
    chosen = {node: values[complete] for node, values in x.items()}
    count = int(complete.sum())
    pieces = [
        np.asarray(
            model.predict_on_batch({n: v[start : start + BATCH_ROWS] for n, v in chosen.items()})
        )
        for start in range(0, count, BATCH_ROWS)
    ]
    return np.concatenate(pieces) if pieces else np.zeros((0,), dtype=np.float32)


def _load_model(bucket: str, key: str) -> Any:
    from sluice.networks.compile import load_keras

    path = f"{tempfile.mkdtemp(prefix='sluice-predictor-')}/model.keras"
    aws.client("s3").download_file(bucket, key, path)
    return load_keras().models.load_model(path)


def run(
    job: PredictionJob, trained: TrainingJob, reporter: Reporter, stop: threading.Event
) -> None:
    """Predict every row of the job's dataset into a new dataset."""
    cfg = settings()
    began = time.perf_counter()
    prefix = job_prefix(trained.owner, trained.id)
    saved = load_preprocessing(cfg.data_bucket, f"{prefix}{trained.artifacts.preprocessing}")
    model = _load_model(cfg.data_bucket, f"{prefix}{trained.artifacts.final}")
    width = output_width(model)
    loaded = time.perf_counter()
    manifest = load_manifest(job.owner, job.dataset_id, job.data_run or "")
    groups = feed.row_groups(cfg.data_bucket, manifest)
    reporter.set(progress=0.05, total_rows=manifest.row_count)
    wanted = list(dict.fromkeys([*job.keep_columns, *saved.columns]))
    output_id, output_run = uuid.uuid4().hex, uuid.uuid4().hex
    workspace = Workspace(job.owner, output_id, output_run)
    files: list[WrittenFile] = []
    done = 0
    for part_index, part in enumerate(manifest.parts):
        pieces = []
        for ref in (g for g in groups if g.key == part.key):
            if stop.is_set() or reporter.stopped.is_set():
                objects.delete_prefix(cfg.data_bucket, workspace.data)
                reporter.close(TrainingStatus.CANCELLED, rows=done)
                return
            table = feed.read_group(cfg.data_bucket, ref, wanted)
            x, complete = model_rows(table, saved)
            outputs = predict_groups(model, x, complete)
            kept = {name: table.column(name) for name in job.keep_columns}
            pieces.append(
                pa.table({**kept, **prediction_columns(outputs, complete, width, saved.classes)})
            )
            done += table.num_rows
            reporter.set(
                rows=done, progress=round(0.05 + 0.9 * done / max(manifest.row_count, 1), 4)
            )
        if not pieces:
            continue
        body = parquet_bytes(pa.concat_tables(pieces))
        key = workspace.part(part_index)
        objects.put_bytes(cfg.data_bucket, key, body, "application/vnd.apache.parquet")
        files.append(WrittenFile(key=key, rows=sum(p.num_rows for p in pieces), bytes=len(body)))
    now = utcnow()
    template = Dataset(
        id=output_id,
        owner=job.owner,
        name=job.name,
        path=OUTPUT_FOLDER,
        description=f"Predictions of training job {trained.id} on dataset {job.dataset_id} "
        f"(prediction job {job.id})",
        created_at=now,
        updated_at=now,
        source=SourceObject(bucket=cfg.data_bucket, key=""),
    )
    record_derived(
        DatasetRepository(cfg.table),
        template,
        output_run,
        files,
        written_by="a model's predictions",
    )
    took = time.perf_counter() - loaded
    timings = job.timings.model_copy(
        update={
            "import_s": round(loaded - began, 3),
            "predict_s": round(took, 3),
            "rows_per_s": round(done / took, 1) if took > 0 else None,
            "peak_rss_mb": round(heap.peak_rss_mb(), 1),
        }
    )
    reporter.close(progress=1.0, rows=done, output_dataset_id=output_id, timings=timings)


def main() -> int:
    """Run the prediction job named by the environment; the process's exit code."""
    owner, job_id = os.environ["SLUICE_JOB_OWNER"], os.environ["SLUICE_JOB_ID"]
    table = settings().table
    repo = PredictionJobRepository(table)
    running = repo.start(owner, job_id, PredictionChanges, PredictionTimings)
    if running is None:
        return 0  # cancelled before the task started
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    reporter = Reporter(repo, owner, job_id, changes=PredictionChanges)
    try:
        trained = TrainingJobRepository(table).get(owner, running.training_job_id)
        run(running, trained, reporter, stop)
    except Exception as exc:  # the job's error, whatever failed
        failure = StepFailure(type(exc).__name__, error_message(exc))
        read = [(running.dataset_id, None)]
        message = explained(failure, DatasetRepository(table), owner, read, "prediction job")
        reporter.close(error=ErrorInfo(code="prediction_error", message=message))
        print(message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
