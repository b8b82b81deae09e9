"""The trainer: what the Fargate task runs (``python -m sluice.training.trainer``; locally
a process that ``sluice.local.patches.ecs_tasks`` starts).

The job comes from the environment (``SLUICE_JOB_OWNER``, ``SLUICE_JOB_ID``, the state
machine's container overrides). The trainer marks it running, reads the graph as it was
when the job started, plans the data (splits, training statistics), fits, and writes its
progress, history, evaluation and artifacts to the job. It never sets the job's final
status: the state machine does (Record or RecordFailure). On a failure it writes its
message to the job's ``error`` and exits 1 (the message is also its stderr's last
line); on SIGTERM (a cancel: ECS's StopTask) it stops after the batch in hand and writes
the history it has.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from sluice import heap
from sluice.config import settings
from sluice.datasets.lost_inputs import explained
from sluice.datasets.models import ErrorInfo
from sluice.datasets.repository import DatasetRepository
from sluice.datasets.rows import load_manifest
from sluice.errors import SluiceError
from sluice.inference.types import ColumnType
from sluice.networks.graph_models import GraphBody
from sluice.networks.service import validate_graph
from sluice.step_errors import StepFailure
from sluice.store import objects
from sluice.training import data as feed
from sluice.training.categories import category_values
from sluice.training.checks import calendared_columns, embedding_inputs
from sluice.training.models import (
    Timings,
    TrainingChanges,
    TrainingJob,
    TrainingStatus,
    job_prefix,
)
from sluice.training.reporter import Reporter
from sluice.training.repository import TrainingJobRepository
from sluice.training.service import graph_key

_MESSAGE_CHARS = 2000


_TRACE_LINES = ("Graph execution error", "Detected at node", "defined at (most recent")


def error_message(exc: BaseException) -> str:
    """The error in a line: TensorFlow's op errors lose their graph traceback (indented
    lines) and keep what they say (``Received a label value of 5 which is outside ...``)."""
    if isinstance(exc, SluiceError):
        return " ".join(exc.message.split())[:_MESSAGE_CHARS]
    lines = [
        line.strip()
        for line in str(exc).splitlines()
        if line.strip() and not line[:1].isspace() and not line.startswith(_TRACE_LINES)
    ]
    said = " ".join(" ".join(lines).split()) or str(exc)
    return f"{type(exc).__name__}: {said}"[:_MESSAGE_CHARS]


def run(job: TrainingJob, reporter: Reporter, stop: threading.Event) -> None:
    """Train the job; the record gets its progress through ``reporter``."""
    cfg = settings()
    began = time.perf_counter()
    from sluice.training import fit

    fit.load_tensorflow()  # seconds: timed as the import
    imported = time.perf_counter()
    graph = GraphBody.model_validate(
        objects.get_json(cfg.data_bucket, graph_key(job.owner, job.id))
    )
    manifest = load_manifest(job.owner, job.dataset_id, job.data_run or "")
    types = {column.name: column.effective_type for column in manifest.columns}
    check = validate_graph(graph)
    inputs = job.params.inputs([node for node in check.order if node in set(check.inputs)])
    category = types.get(job.params.y_column) is ColumnType.CATEGORY
    used = [column for columns in inputs.values() for column in columns]
    found = category_values(job.owner, job.dataset_id, job.data_run or "", used)
    vocab = {name: values for name, values in found.items() if values}  # one-hot or index
    indexed = frozenset(embedding_inputs(graph)) & set(inputs)
    calendared = calendared_columns(job.params, inputs, types)
    data = feed.plan(
        cfg.data_bucket, manifest, inputs, job.params, category, vocab, indexed, calendared
    )
    planned = time.perf_counter()
    timings = job.timings.model_copy(
        update={"import_s": round(imported - began, 3), "data_s": round(planned - imported, 3)}
    )
    reporter.set(progress=0.05, rows={**data.rows, "dropped": data.dropped}, timings=timings)
    outcome = fit.train(
        cfg.data_bucket, job.owner, job.id, graph, job.params, inputs, data, reporter, stop
    )
    first_epoch = (
        round(outcome.first_epoch_at - job.created_at.timestamp(), 3)
        if outcome.first_epoch_at
        else None
    )
    timings = timings.model_copy(
        update={
            "train_s": round(outcome.train_s, 3),
            "samples_per_s": outcome.samples_per_s,
            "first_epoch_s": first_epoch,
            "peak_rss_mb": round(heap.peak_rss_mb(), 1),
        }
    )
    history = {key: list(values) for key, values in outcome.history.items()}
    if outcome.stopped:
        reporter.close(TrainingStatus.CANCELLED, history=history, timings=timings)
        return
    preprocessing = {
        "inputs": inputs,
        "y_column": job.params.y_column,
        "standardization": {
            "mean": data.standardization.mean,
            "variance": data.standardization.variance,
        },
        "classes": data.classes,
        "categories": vocab,
        # Input nodes whose category columns are indices (1 + the value's place in
        # categories; 0 for a value training never saw), not one-hot.
        "indexed": sorted(data.indexed),
        # Datetime columns fed as their seconds and their place in the year, week and day.
        "calendared": sorted(data.calendared),
        "num_classes": data.num_classes,
        "one_hot": data.one_hot,
        "note": "the saved models standardise their inputs themselves",
    }
    objects.put_json(
        cfg.data_bucket, f"{job_prefix(job.owner, job.id)}{fit.PREPROCESSING}", preprocessing
    )
    artifacts = outcome.artifacts.model_copy(update={"preprocessing": fit.PREPROCESSING})
    reporter.close(
        progress=1.0,
        history=history,
        evaluation=outcome.evaluation,
        artifacts=artifacts,
        timings=timings,
    )


def main() -> int:
    """Run the job named by the environment; the process's exit code."""
    owner, job_id = os.environ["SLUICE_JOB_OWNER"], os.environ["SLUICE_JOB_ID"]
    repo = TrainingJobRepository(settings().table)
    running = repo.start(owner, job_id, TrainingChanges, Timings)
    if running is None:
        return 0  # cancelled or deleted before the task started
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    reporter = Reporter(repo, owner, job_id)
    try:
        run(running, reporter, stop)
    except Exception as exc:  # the job's error, whatever failed
        failure = StepFailure(type(exc).__name__, error_message(exc))
        read = [(running.dataset_id, running.data_run)]
        datasets = DatasetRepository(settings().table)
        message = explained(failure, datasets, owner, read, "training job")
        reporter.close(error=ErrorInfo(code="training_error", message=message))
        print(message, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
