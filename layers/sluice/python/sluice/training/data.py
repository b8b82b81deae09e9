"""The trainer's data, without TensorFlow: a dataset's typed Parquet parts read one row
group at a time (never the whole table), each row's split drawn reproducibly from the
seed, statistics of the training split only, labels as class indices or one-hot.

A row group is the unit of everything: it is read with only the columns the job uses,
its rows are assigned to train/validation/test by a generator seeded with (seed, group),
so the same job always splits the same way whatever order the groups are read in, and
rows with a missing value in a used column are left out (and counted).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sluice.datasets.manifest import Manifest
from sluice.store.arrow_fs import s3_filesystem
from sluice.training.checks import (
    CATEGORICAL_LOSSES,
    UNKNOWN_INDEX,
    input_width,
)
from sluice.training.models import TrainingParams

TRAIN, VALIDATION, TEST = 0, 1, 2
SPLIT_NAMES = ("train", "validation", "test")
IN_MEMORY_BYTES = 192 * 1024**2
"""A dataset whose used columns take less as float32 is kept in memory after the first
read (a small job then reads S3 once, not once per epoch). Held so, a table costs the
trainer some 4.3 times its size at its peak (the blocks, each split's arrays, Keras's
tensors of them: 1.2 GB for 136 MB, 2.0 GB for 340 MB, bench/training/memory.py), on
top of TensorFlow's 0.6 GB; streamed, any size peaks near 0.8 GB. At 192 MB the peak
stays under the issue's 1.5 GB whatever the dataset's size."""


@dataclass(frozen=True)
class GroupRef:
    key: str
    group: int
    rows: int


@dataclass
class Block:
    """One row group's usable rows: inputs per input node, labels, split of each row."""

    x: dict[str, np.ndarray]
    y: np.ndarray
    split: np.ndarray


@dataclass
class Standardization:
    """Per input node, each column's mean and variance over the training split."""

    mean: dict[str, list[float]]
    variance: dict[str, list[float]]


@dataclass
class DataPlan:
    """What the statistics pass learnt: splits' sizes, standardisation, label classes."""

    groups: list[GroupRef]
    rows: dict[str, int]
    dropped: int
    standardization: Standardization
    classes: list[str] | None  # a category label's values, by index
    num_classes: int | None  # when labels are one-hot or sparse class indices
    one_hot: bool
    cached: list[Block] | None = field(default=None, repr=False)
    vocab: dict[str, list[str]] = field(default_factory=dict)  # category inputs' values
    indexed: frozenset[str] = frozenset()  # input nodes fed category indices (Embeddings)
    calendared: frozenset[str] = frozenset()  # datetime columns fed by the calendar


def row_groups(bucket: str, manifest: Manifest) -> list[GroupRef]:
    """Every row group of the dataset's parts, in row order (footers only)."""
    groups: list[GroupRef] = []
    fs = s3_filesystem()
    for part in manifest.parts:
        with fs.open_input_file(f"{bucket}/{part.key}") as source:
            meta = pq.ParquetFile(source).metadata
            groups.extend(
                GroupRef(part.key, g, meta.row_group(g).num_rows)
                for g in range(meta.num_row_groups)
            )
    return groups


def read_group(bucket: str, ref: GroupRef, columns: list[str]) -> pa.Table:
    """One row group, only ``columns``."""
    with s3_filesystem().open_input_file(f"{bucket}/{ref.key}") as source:
        return pq.ParquetFile(source).read_row_group(ref.group, columns=columns)


def as_float(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A typed column as float32, nulls as NaN: times as seconds since the epoch,
    durations as seconds, booleans as 0/1."""
    kind = column.type
    if pa.types.is_timestamp(kind) or pa.types.is_duration(kind) or pa.types.is_date(kind):
        unit = getattr(kind, "unit", "s")
        scale = {"s": 1.0, "ms": 1e3, "us": 1e6, "ns": 1e9}.get(unit, 1.0)
        if pa.types.is_date(kind):
            column, scale = pc.cast(column, pa.date32()), 1.0 / 86_400
        ints = pc.cast(column, pa.int64())
        return (ints.to_numpy(zero_copy_only=False).astype(np.float64) / scale).astype(np.float32)
    if pa.types.is_boolean(kind):
        column = pc.cast(column, pa.uint8())
    values = pc.cast(column, pa.float32()).to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float32)


_DAY_S = 86_400.0
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday; Monday is 0


def calendar(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A datetime column as ``CALENDAR_WIDTH`` float32 values a row (nulls as NaN): the
    seconds since the epoch, and the year, the week and the day as angles (sine, cosine),
    so that a network sees December next to January, Sunday next to Monday and midnight
    next to 23:59, which the seconds alone hide."""
    micros = pc.cast(pc.cast(column, pa.timestamp("us")), pa.int64())
    seconds = micros.to_numpy(zero_copy_only=False).astype(np.float64) / 1e6
    days = np.floor(seconds / _DAY_S)
    of_day = (seconds - days * _DAY_S) / _DAY_S
    of_week = (np.mod(days + _EPOCH_WEEKDAY, 7) + of_day) / 7
    day_of_year = pc.day_of_year(column).to_numpy(zero_copy_only=False).astype(np.float64)
    year_days = np.where(
        pc.is_leap_year(column).to_numpy(zero_copy_only=False).astype(bool), 366.0, 365.0
    )
    of_year = (day_of_year - 1 + of_day) / year_days
    angles = 2 * np.pi * np.stack([of_year, of_week, of_day], axis=1)
    values = np.column_stack(
        [
            seconds,
            np.sin(angles[:, 0]),
            np.cos(angles[:, 0]),
            np.sin(angles[:, 1]),
            np.cos(angles[:, 1]),
            np.sin(angles[:, 2]),
            np.cos(angles[:, 2]),
        ]
    )
    return values.astype(np.float32)


def splits(seed: int, ordinal: int, rows: int, params: TrainingParams) -> np.ndarray:
    """Each row's split, drawn from (seed, group ordinal): the same on every read."""
    draw = np.random.default_rng([seed, ordinal]).random(rows)
    test, val = params.test_split, params.validation_split
    return np.where(draw < test, TEST, np.where(draw < test + val, VALIDATION, TRAIN)).astype(
        np.int8
    )


def _labels(table: pa.Table, params: TrainingParams, classes: list[str] | None) -> np.ndarray:
    column = table.column(params.y_column)
    if classes is not None:  # a category: its class index
        text = pc.cast(column, pa.string())
        return np.asarray(
            pc.index_in(text, value_set=pa.array(classes)).to_numpy(zero_copy_only=False),
            dtype=np.float32,
        )
    return as_float(column)


def one_hot(column: pa.ChunkedArray | pa.Array, values: list[str]) -> np.ndarray:
    """A category column one-hot over ``values`` (float32); a null or unknown value is a
    row of NaN, left out as a missing value is."""
    index = pc.index_in(pc.cast(column, pa.string()), value_set=pa.array(values, pa.string()))
    positions = index.to_numpy(zero_copy_only=False)
    known = ~np.isnan(positions.astype(np.float64))
    out = np.full((len(positions), len(values)), np.nan, dtype=np.float32)
    rows = np.flatnonzero(known)
    out[rows] = 0.0
    out[rows, positions[known].astype(np.int64)] = 1.0
    return out


def category_index(column: pa.ChunkedArray | pa.Array, values: list[str]) -> np.ndarray:
    """A category column as indices for an Embedding (float32, as every input is fed;
    exact below 2**24): ``values[i]`` is i + 1, a null or unknown value UNKNOWN_INDEX."""
    index = pc.index_in(pc.cast(column, pa.string()), value_set=pa.array(values, pa.string()))
    shifted = pc.fill_null(pc.add(index, 1), UNKNOWN_INDEX)
    return np.asarray(shifted.to_numpy(zero_copy_only=False), dtype=np.float32)


def features(
    table: pa.Table,
    columns: list[str],
    vocab: dict[str, list[str]] | None = None,
    index: bool = False,
    calendared: frozenset[str] = frozenset(),
) -> np.ndarray:
    """An input's values: each column as float32, a category one-hot over its values, or
    as its index (``index``: the input feeds an Embedding), a ``calendared`` datetime as
    its seconds and its place in the year, week and day (:func:`calendar`)."""
    parts = []
    for c in columns:
        if vocab and c in vocab:
            coded = (category_index if index else one_hot)(table.column(c), vocab[c])
            parts.append(coded.reshape(table.num_rows, -1))
        elif c in calendared:
            parts.append(calendar(table.column(c)))
        else:
            parts.append(as_float(table.column(c)).reshape(-1, 1))
    return np.concatenate(parts, axis=1).astype(np.float32, copy=False)


def block(
    table: pa.Table,
    inputs: dict[str, list[str]],
    params: TrainingParams,
    ordinal: int,
    classes: list[str] | None,
    vocab: dict[str, list[str]] | None = None,
    indexed: frozenset[str] = frozenset(),
    calendared: frozenset[str] = frozenset(),
) -> tuple[Block, int]:
    """A row group's usable rows (none missing a used value), and how many were dropped.
    An index input never misses one: a null is the unknown index."""
    x = {
        node: features(table, cols, vocab, node in indexed, calendared)
        for node, cols in inputs.items()
    }
    y = _labels(table, params, classes)
    keep = ~np.isnan(y)
    for values in x.values():
        keep &= ~np.isnan(values).any(axis=1)
    split = splits(params.seed, ordinal, table.num_rows, params)
    kept = Block({node: v[keep] for node, v in x.items()}, y[keep], split[keep])
    return kept, int(table.num_rows - keep.sum())


def _class_values(table: pa.Table, column: str) -> set[str]:
    values = pc.unique(pc.cast(table.column(column), pa.string()).combine_chunks())
    return {v for v in values.to_pylist() if v is not None}


def plan(
    bucket: str,
    manifest: Manifest,
    inputs: dict[str, list[str]],
    params: TrainingParams,
    category_label: bool,
    vocab: dict[str, list[str]] | None = None,
    indexed: frozenset[str] = frozenset(),
    calendared: frozenset[str] = frozenset(),
) -> DataPlan:
    """One pass over the data: splits' sizes, the training split's means and variances
    (float64 sums), the label's classes; the blocks are kept when they fit in memory.
    ``indexed``: the input nodes whose category columns are fed as indices;
    ``calendared``: the datetime columns fed by the calendar."""
    vocab = vocab or {}
    groups = row_groups(bucket, manifest)
    columns = [c for cols in inputs.values() for c in cols] + [params.y_column]
    widths = {
        node: input_width(cols, dict(vocab), node in indexed, calendared)
        for node, cols in inputs.items()
    }
    row_bytes = (sum(widths.values()) + 1) * 4
    keep_blocks = sum(g.rows for g in groups) * row_bytes < IN_MEMORY_BYTES
    classes: list[str] | None = None
    if category_label:  # classes first: a label's index must not depend on read order
        found: set[str] = set()
        for ref in groups:
            found |= _class_values(read_group(bucket, ref, [params.y_column]), params.y_column)
        classes = sorted(found)
    sums = {node: np.zeros(widths[node]) for node in inputs}
    squares = {node: np.zeros(widths[node]) for node in inputs}
    counts, dropped, largest = [0, 0, 0], 0, -math.inf
    blocks: list[Block] = []
    for ordinal, ref in enumerate(groups):
        table = read_group(bucket, ref, columns)
        piece, lost = block(table, inputs, params, ordinal, classes, vocab, indexed, calendared)
        dropped += lost
        for split in (TRAIN, VALIDATION, TEST):
            counts[split] += int((piece.split == split).sum())
        train = piece.split == TRAIN
        for node, values in piece.x.items():
            chosen = values[train].astype(np.float64)
            sums[node] += chosen.sum(axis=0)
            squares[node] += (chosen * chosen).sum(axis=0)
        if piece.y.size:
            largest = max(largest, float(piece.y.max()))
        if keep_blocks:
            blocks.append(piece)
    n = max(counts[TRAIN], 1)
    mean = {node: (sums[node] / n).tolist() for node in inputs}
    variance = {
        node: np.maximum(squares[node] / n - (sums[node] / n) ** 2, 0.0).tolist() for node in inputs
    }
    one_hot = params.y_one_hot or params.loss in CATEGORICAL_LOSSES
    sparse = params.loss in {"sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"}
    num_classes = None
    if classes is not None:
        num_classes = len(classes)
    elif one_hot or sparse:
        num_classes = int(largest) + 1 if largest > -math.inf else 0
    return DataPlan(
        groups=groups,
        rows=dict(zip(SPLIT_NAMES, counts, strict=True)),
        dropped=dropped,
        standardization=Standardization(mean, variance),
        classes=classes,
        num_classes=num_classes,
        one_hot=one_hot,
        cached=blocks if keep_blocks else None,
        vocab=vocab,
        indexed=indexed,
        calendared=calendared,
    )


def blocks(
    bucket: str,
    data: DataPlan,
    inputs: dict[str, list[str]],
    params: TrainingParams,
    epoch: int,
    shuffle: bool,
) -> Iterator[Block]:
    """The data's blocks for one epoch, from memory or read again group by group;
    shuffled (groups' order and rows within each) from (seed, epoch) when asked."""
    order = list(range(len(data.groups)))
    rng = np.random.default_rng([params.seed, 1_000_003, epoch])
    if shuffle:
        rng.shuffle(order)
    columns = [c for cols in inputs.values() for c in cols] + [params.y_column]
    for ordinal in order:
        if data.cached is not None:
            piece = data.cached[ordinal]
        else:
            table = read_group(bucket, data.groups[ordinal], columns)
            piece, _ = block(
                table,
                inputs,
                params,
                ordinal,
                data.classes,
                data.vocab,
                data.indexed,
                data.calendared,
            )
        if shuffle and piece.y.size:
            permutation = rng.permutation(piece.y.size)
            piece = Block(
                {node: v[permutation] for node, v in piece.x.items()},
                piece.y[permutation],
                piece.split[permutation],
            )
        yield piece


def encode_labels(y: np.ndarray, data: DataPlan) -> np.ndarray:
    """Labels as the loss wants them: one-hot rows, class indices, or values."""
    if data.one_hot and data.num_classes:
        return np.eye(data.num_classes, dtype=np.float32)[y.astype(np.int64)]
    if data.num_classes:
        return y.astype(np.int32)
    return y.reshape(-1, 1)
