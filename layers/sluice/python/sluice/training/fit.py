"""The trainer's Keras side: the graph's model behind a standardisation of its inputs,
``tf.data`` fed block by block from :mod:`sluice.training.data`, MAID's callbacks (early
stopping, reduce-LR, best model, CSV log), live progress, evaluation and artifacts.

Only the trainer imports this module (it imports TensorFlow); the api never does.
"""

from __future__ import annotations

import math
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sluice import aws
from sluice.errors import Unprocessable
from sluice.networks.compile import build_model, load_keras
from sluice.networks.graph_models import GraphBody
from sluice.training import data as feed
from sluice.training.data import DataPlan
from sluice.training.models import Artifacts, TrainingParams, job_prefix
from sluice.training.reporter import Reporter

STEPS_PER_EXECUTION = 32
FINAL, BEST, LOG, PREPROCESSING = (
    "final.keras",
    "best.keras",
    "training_log.csv",
    "preprocessing.json",
)


@dataclass
class Outcome:
    """What a run of ``fit`` leaves: history, evaluation, artifacts, speed."""

    history: dict[str, list[float | None]] = field(default_factory=dict)
    evaluation: dict[str, float | None] | None = None
    artifacts: Artifacts = field(default_factory=Artifacts)
    stopped: bool = False  # cancelled: no artifacts
    train_s: float = 0.0
    samples_per_s: float | None = None
    first_epoch_at: float | None = None  # time.time() at epoch 1's end


def load_tensorflow() -> Any:
    """TensorFlow with Keras on it, imported (seconds, once per process)."""
    import tensorflow as tf

    load_keras()
    return tf


def finite(value: Any) -> float | None:
    """A metric as JSON can store it (NaN and infinities as null)."""
    number = float(value)
    return number if math.isfinite(number) else None


def standardized_model(
    keras: Any, graph: GraphBody, inputs: dict[str, list[str]], data: DataPlan
) -> Any:
    """The graph's model behind one Normalization per input, holding the training split's
    means and variances: the saved model standardises what it is given, so predictions
    need no other preprocessing. An input of category indices (it feeds an Embedding)
    goes to the graph as it is: an index is a name, not a quantity."""
    base, check = build_model(graph)
    nodes = [node for node in check.order if node in set(check.inputs)]
    fed, standardized = [], []
    for node in nodes:
        tensor = keras.Input(shape=(len(data.standardization.mean[node]),), name=node)
        fed.append(tensor)
        if node in data.indexed:
            standardized.append(tensor)
            continue
        layer = keras.layers.Normalization(
            mean=data.standardization.mean[node],
            variance=data.standardization.variance[node],
            name=f"standardize_{node}",
        )
        standardized.append(layer(tensor))
    outputs = base(standardized if len(standardized) > 1 else standardized[0])
    return keras.Model(fed, outputs, name="sluice_training")


def optimizer(keras: Any, params: TrainingParams) -> Any:
    """The named optimizer with the job's learning rate and gradient clipping."""
    base = keras.optimizers.get(params.optimizer)
    config = base.get_config()
    if params.learning_rate is not None:
        config["learning_rate"] = params.learning_rate
    if params.clipnorm is not None:
        config["clipnorm"] = params.clipnorm
    if params.clipvalue is not None:
        config["clipvalue"] = params.clipvalue
    return type(base).from_config(config)


def _batches(
    bucket: str,
    data: DataPlan,
    inputs: dict[str, list[str]],
    params: TrainingParams,
    split: int,
    batch_size: int,
    shuffle: bool,
    epoch: int,
) -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
    """Batches of one split, cut from consecutive blocks (numpy, not row by row)."""
    held_x: dict[str, list[np.ndarray]] = {node: [] for node in inputs}
    held_y: list[np.ndarray] = []
    held = 0
    for piece in feed.blocks(bucket, data, inputs, params, epoch, shuffle):
        mask = piece.split == split
        if not mask.any():
            continue
        for node in inputs:
            held_x[node].append(piece.x[node][mask])
        held_y.append(piece.y[mask])
        held += int(mask.sum())
        if held < batch_size:
            continue
        x = {node: np.concatenate(held_x[node]) for node in inputs}
        y = np.concatenate(held_y)
        cut = held - held % batch_size
        for start in range(0, cut, batch_size):
            stop = start + batch_size
            yield {n: v[start:stop] for n, v in x.items()}, feed.encode_labels(y[start:stop], data)
        held_x = {node: [v[cut:]] for node, v in x.items()}
        held_y, held = [y[cut:]], held - cut
    if held:
        x = {node: np.concatenate(held_x[node]) for node in inputs}
        yield x, feed.encode_labels(np.concatenate(held_y), data)


def _arrays(
    data: DataPlan, inputs: dict[str, list[str]], split: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One split of data held in memory, as arrays (Keras then batches and shuffles them
    itself, as fast as ``fit`` on NumPy can be)."""
    assert data.cached is not None
    masks = [piece.split == split for piece in data.cached]
    pieces = list(zip(data.cached, masks, strict=True))
    x = {node: np.concatenate([p.x[node][m] for p, m in pieces]) for node in inputs}
    y = np.concatenate([p.y[m] for p, m in pieces])
    return x, feed.encode_labels(y, data)


def _feed(
    tf: Any,
    bucket: str,
    data: DataPlan,
    inputs: dict[str, list[str]],
    params: TrainingParams,
    split: int,
    batch_size: int,
    shuffle: bool,
) -> dict[str, Any]:
    """``fit``'s data for one split: arrays when the data is in memory, else a
    ``tf.data`` stream that reads the row groups again each epoch."""
    if data.cached is not None:
        x, y = _arrays(data, inputs, split)
        return {"x": x, "y": y}
    return {"x": _dataset(tf, bucket, data, inputs, params, split, batch_size, shuffle)}


def _dataset(
    tf: Any,
    bucket: str,
    data: DataPlan,
    inputs: dict[str, list[str]],
    params: TrainingParams,
    split: int,
    batch_size: int,
    shuffle: bool,
) -> Any:
    epochs = iter(range(1_000_000))  # each pass (epoch) shuffles differently

    def generate() -> Iterator[tuple[dict[str, np.ndarray], np.ndarray]]:
        yield from _batches(bucket, data, inputs, params, split, batch_size, shuffle, next(epochs))

    x_spec = {
        node: tf.TensorSpec((None, len(data.standardization.mean[node])), tf.float32)
        for node in inputs
    }
    if data.one_hot and data.num_classes:
        y_spec = tf.TensorSpec((None, data.num_classes), tf.float32)
    elif data.num_classes:
        y_spec = tf.TensorSpec((None,), tf.int32)
    else:
        y_spec = tf.TensorSpec((None, 1), tf.float32)
    return tf.data.Dataset.from_generator(generate, output_signature=(x_spec, y_spec)).prefetch(2)


def _progress_callback(
    keras: Any, reporter: Reporter, epochs: int, steps: int, outcome: Outcome, stop: threading.Event
) -> Any:
    class Progress(keras.callbacks.Callback):  # type: ignore[misc,name-defined]
        """0.05 + 0.9 x the fraction of batches done; each epoch's values and history."""

        epoch = 0

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.epoch = epoch

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            done = min((self.epoch + (batch + 1) / max(steps, 1)) / epochs, 1.0)
            reporter.set(progress=round(0.05 + 0.9 * done, 4))
            if stop.is_set() or reporter.stopped.is_set():
                self.model.stop_training = True

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            values = {key: finite(value) for key, value in (logs or {}).items()}
            values.setdefault("learning_rate", finite(self.model.optimizer.learning_rate))
            for key, value in values.items():
                outcome.history.setdefault(key, []).append(value)
            if outcome.first_epoch_at is None:
                outcome.first_epoch_at = time.time()
            reporter.set(
                epoch={"epoch": epoch + 1, **values},
                history={k: list(v) for k, v in outcome.history.items()},
                progress=round(0.05 + 0.9 * (epoch + 1) / epochs, 4),
            )

    return Progress()


def _monitor(name: str, data: DataPlan) -> str:
    """A ``val_`` monitor without validation rows watches the training value instead."""
    return name[4:] if name.startswith("val_") and not data.rows["validation"] else name


def train(
    bucket: str,
    owner: str,
    job_id: str,
    graph: GraphBody,
    params: TrainingParams,
    inputs: dict[str, list[str]],
    data: DataPlan,
    reporter: Reporter,
    stop: threading.Event,
) -> Outcome:
    """Fit the model with the job's parameters; write its artifacts unless stopped."""
    if not data.rows["train"]:
        raise Unprocessable(
            "no rows left for training (every row is missing a used value, "
            "or the splits take them all)"
        )
    tf, keras = load_tensorflow(), load_keras()
    keras.utils.set_random_seed(params.seed)
    model = standardized_model(keras, graph, inputs, data)
    steps = math.ceil(data.rows["train"] / params.batch_size)
    model.compile(
        optimizer=optimizer(keras, params),
        loss=params.loss,
        metrics=list(params.metrics),
        # Several batches per call into TensorFlow: the progress callback then runs (and
        # syncs) once per STEPS_PER_EXECUTION batches, not after every small one.
        steps_per_execution=max(1, min(STEPS_PER_EXECUTION, steps)),
    )
    outcome = Outcome()
    workdir = Path(tempfile.mkdtemp(prefix="sluice-trainer-"))
    callbacks: list[Any] = []
    if params.early_stopping:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=_monitor(params.es_monitor, data),
                mode=params.es_mode,
                patience=params.es_patience,
                min_delta=params.es_min_delta,
                restore_best_weights=params.es_restore_best_weights,
            )
        )
    if params.reduce_lr:
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=_monitor(params.rl_monitor, data),
                factor=params.rl_factor,
                patience=params.rl_patience,
                min_lr=params.rl_min_lr,
            )
        )
    if params.save_best_model:
        callbacks.append(
            keras.callbacks.ModelCheckpoint(
                str(workdir / BEST), monitor=_monitor(params.es_monitor, data), save_best_only=True
            )
        )
    if params.save_training_logs:
        callbacks.append(keras.callbacks.CSVLogger(str(workdir / LOG)))
    callbacks.append(_progress_callback(keras, reporter, params.epochs, steps, outcome, stop))
    validation_batch = params.validation_batch_size or params.batch_size
    train_feed = _feed(
        tf, bucket, data, inputs, params, feed.TRAIN, params.batch_size, params.shuffle
    )
    validation = None
    if data.rows["validation"]:
        held = _feed(tf, bucket, data, inputs, params, feed.VALIDATION, validation_batch, False)
        validation = held["x"] if "y" not in held else (held["x"], held["y"])
    in_memory = "y" in train_feed
    began = time.perf_counter()
    model.fit(
        **train_feed,
        epochs=params.epochs,
        validation_data=validation,
        callbacks=callbacks,
        verbose=0,
        # In memory, Keras batches (and shuffles, as asked) the arrays itself.
        **({"batch_size": params.batch_size, "shuffle": params.shuffle} if in_memory else {}),
        **({"validation_batch_size": validation_batch} if in_memory else {}),
    )
    outcome.train_s = time.perf_counter() - began
    epochs_run = len(next(iter(outcome.history.values()), []))
    if outcome.train_s > 0 and epochs_run:
        outcome.samples_per_s = round(data.rows["train"] * epochs_run / outcome.train_s, 1)
    if stop.is_set() or reporter.stopped.is_set():
        outcome.stopped = True
        return outcome
    if data.rows["test"]:
        test = _feed(tf, bucket, data, inputs, params, feed.TEST, params.batch_size, False)
        scores = model.evaluate(
            **test,
            return_dict=True,
            verbose=0,
            **({"batch_size": params.batch_size} if "y" in test else {}),
        )
        outcome.evaluation = {key: finite(value) for key, value in scores.items()}
    model.save(str(workdir / FINAL))
    outcome.artifacts = _upload(bucket, job_prefix(owner, job_id), workdir)
    return outcome


def _upload(bucket: str, prefix: str, workdir: Path) -> Artifacts:
    s3 = aws.client("s3")
    found = {}
    for kind, name in (("final", FINAL), ("best", BEST), ("log", LOG)):
        path = workdir / name
        if path.exists():
            s3.upload_file(str(path), bucket, f"{prefix}{name}")
            found[kind] = name
    return Artifacts(**found)
