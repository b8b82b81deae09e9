"""What a training request must agree with before anything runs (pure): the dataset's
columns and types, the graph's input and output nodes and their shapes, and the
manifests' optimizers, losses and metrics. Each problem names its field and the column
or node at fault."""

from __future__ import annotations

from typing import Any

from sluice.inference.types import NUMBER_TYPES, TIME_TYPES, ColumnType
from sluice.networks import manifests
from sluice.networks.graph_models import GraphCheck
from sluice.networks.manifest_models import ManifestKind
from sluice.training.models import TrainingParams

NUMERIC_INPUTS = NUMBER_TYPES | TIME_TYPES | {ColumnType.BOOL}
"""Fed to the network as float32 (a time as seconds since the epoch, a duration as seconds)."""
LABELS = NUMERIC_INPUTS | {ColumnType.CATEGORY}
"""A category label becomes its class index (or one-hot)."""
CATEGORICAL_LOSSES = frozenset({"categorical_crossentropy", "CategoricalCrossentropy"})
SPARSE_LOSSES = frozenset({"sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"})

Problem = dict[str, Any]


def _problem(message: str, **where: Any) -> Problem:
    return {"message": message, **where}


SHORTHANDS = {
    "mse": "mean_squared_error",
    "mae": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error",
}
"""Keras's short names of losses and metrics (MAID's default loss is "mse")."""
LOSS_DEPENDENT_METRICS = frozenset({"accuracy", "acc", "crossentropy", "ce"})
"""Metrics Keras maps to the variant that fits the loss (as MAID relies on)."""


def _known(kind: ManifestKind, field: str, name: str) -> list[Problem]:
    if kind is ManifestKind.METRICS and name in LOSS_DEPENDENT_METRICS:
        return []
    if manifests.find(kind, SHORTHANDS.get(name, name)) is None:
        return [_problem(f"{field}: no {kind.value} entry named {name!r}", field=field)]
    return []


def _column_problems(
    field: str,
    column: str,
    schema: dict[str, ColumnType],
    allowed: frozenset[ColumnType],
    categories: dict[str, list[str] | None] | None = None,
) -> list[Problem]:
    kind = schema.get(column)
    if kind is None:
        return [
            _problem(f"{field}: the dataset has no column {column!r}", field=field, column=column)
        ]
    if kind is ColumnType.CATEGORY and categories is not None and kind not in allowed:
        if categories.get(column):
            return []  # one-hot over its values
        allowed = allowed - {ColumnType.CATEGORY}
    if kind not in allowed:
        why = (
            "text cannot be fed to a network (no tokenizer is applied)"
            if kind is ColumnType.STRING
            else "its values are not known (more than the dataset's max_categories)"
            if kind is ColumnType.CATEGORY
            else "its type cannot be used here"
        )
        return [
            _problem(
                f"{field}: column {column!r} is {kind.value}: {why}",
                field=field,
                column=column,
                type=kind.value,
            )
        ]
    return []


def _input_problems(
    params: TrainingParams,
    check: GraphCheck,
    schema: dict[str, ColumnType],
    categories: dict[str, list[str] | None],
) -> list[Problem]:
    if not isinstance(params.x_columns, dict) and len(check.inputs) != 1:
        return [
            _problem(
                f"x_columns: the graph has {len(check.inputs)} inputs "
                f"({', '.join(check.inputs)}); give x_columns as a map of input node id to columns",
                field="x_columns",
            )
        ]
    problems: list[Problem] = []
    columns = params.inputs(check.inputs)
    for node in check.inputs:
        if node not in columns:
            problems.append(_problem(f"x_columns: no columns for input node {node!r}", node=node))
    for node, names in columns.items():
        if node not in check.inputs:
            problems.append(
                _problem(f"x_columns: {node!r} is not an input node of the graph", node=node)
            )
            continue
        if not names:
            problems.append(_problem(f"x_columns: input node {node!r} has no columns", node=node))
        for column in names:
            problems.extend(
                _column_problems("x_columns", column, schema, NUMERIC_INPUTS, categories)
            )
        width = input_width(names, categories)
        shape = check.shapes.get(node)
        if shape is not None and (len(shape) != 1 or shape[0] not in (None, width)):
            problems.append(
                _problem(
                    f"input node {node!r} takes rows of shape {shape}; x_columns gives it "
                    f"{width} value(s) a row (a category column one per value)",
                    node=node,
                    field="x_columns",
                )
            )
    return problems


def _output_problems(params: TrainingParams, check: GraphCheck) -> list[Problem]:
    if len(check.outputs) != 1:
        return [
            _problem(
                f"the graph has {len(check.outputs)} outputs ({', '.join(check.outputs)}); "
                "training takes one y_column, so one output node",
                field="y_column",
            )
        ]
    node = check.outputs[0]
    shape = check.shapes.get(node)
    if shape is None or not shape or shape[-1] is None:
        return []
    classes = params.y_one_hot or params.loss in CATEGORICAL_LOSSES | SPARSE_LOSSES
    if not classes and shape[-1] != 1:
        return [
            _problem(
                f"output node {node!r} gives {shape[-1]} values per row, and y_column "
                f"{params.y_column!r} is one value (set y_one_hot or a categorical loss "
                "for classes)",
                node=node,
                field="y_column",
            )
        ]
    if classes and shape[-1] < 2:
        return [
            _problem(
                f"output node {node!r} gives one value per row: a categorical loss needs "
                "one per class",
                node=node,
                field="loss",
            )
        ]
    return []


def input_width(names: list[str], categories: dict[str, list[str] | None]) -> int:
    """Values a row gives an input: one per column, a category's one per value (one-hot)."""
    return sum(len(categories.get(name) or ()) or 1 for name in names)


def training_problems(
    params: TrainingParams,
    check: GraphCheck,
    schema: dict[str, ColumnType],
    categories: dict[str, list[str] | None] | None = None,
) -> list[Problem]:
    """Every problem of ``params`` for this graph and this dataset's schema (with the
    values of its category columns, which inputs take one-hot)."""
    problems = _input_problems(params, check, schema, categories or {})
    problems.extend(_column_problems("y_column", params.y_column, schema, LABELS))
    used = [c for names in params.inputs(check.inputs).values() for c in names]
    if params.y_column in used:
        problems.append(
            _problem(
                f"y_column: {params.y_column!r} is also an input column",
                field="y_column",
                column=params.y_column,
            )
        )
    problems.extend(_output_problems(params, check))
    problems.extend(_known(ManifestKind.OPTIMIZERS, "optimizer", params.optimizer))
    problems.extend(_known(ManifestKind.LOSSES, "loss", params.loss))
    for metric in params.metrics:
        problems.extend(_known(ManifestKind.METRICS, "metrics", metric))
    return problems
