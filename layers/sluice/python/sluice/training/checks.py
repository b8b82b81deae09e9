"""What a training request must agree with before anything runs (pure): the dataset's
columns and types, the graph's input and output nodes and their shapes, and the
manifests' optimizers, losses and metrics. Each problem names its field and the column
or node at fault."""

from __future__ import annotations

from typing import Any

from sluice.inference.types import NUMBER_TYPES, TIME_TYPES, ColumnType
from sluice.networks import manifests
from sluice.networks.graph_models import GraphBody, GraphCheck
from sluice.networks.manifest_models import ManifestKind
from sluice.training.models import TrainingParams
from sluice.training.prediction_models import PREDICTED_CLASS, PREDICTION

NUMERIC_INPUTS = NUMBER_TYPES | TIME_TYPES | {ColumnType.BOOL}
"""Fed to the network as float32 (a time as seconds since the epoch, a duration as seconds)."""
LABELS = NUMERIC_INPUTS | {ColumnType.CATEGORY}
"""A category label becomes its class index (or one-hot)."""
CATEGORY_VALUES = frozenset({ColumnType.CATEGORY, ColumnType.STRING})
"""What a dataset to predict may hold where the model took a category: values as text."""
CATEGORICAL_LOSSES = frozenset({"categorical_crossentropy", "CategoricalCrossentropy"})
SPARSE_LOSSES = frozenset({"sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"})

Problem = dict[str, Any]

UNKNOWN_INDEX = 0
"""A category column fed to an Embedding: its values are indices 1..n in the order the
ingest found them; 0 stands for a missing value or one the training data did not have."""


def embedding_inputs(graph: GraphBody) -> dict[str, int | None]:
    """The input nodes an edge leads from straight into an ``Embedding`` layer, each with
    the smallest ``input_dim`` of those layers (None where none sets one): their category
    columns are fed as indices, not one-hot, and not standardised."""
    layers = {node.id: node for node in graph.nodes}
    dims: dict[str, list[int]] = {}
    for edge in graph.edges:
        source, target = layers.get(edge.source), layers.get(edge.target)
        if source is None or target is None or source.type != "Input":
            continue
        if target.type == "Embedding":
            dim = target.params.get("input_dim")
            dims.setdefault(source.id, []).extend([dim] if isinstance(dim, int) else [])
    return {node: min(found) if found else None for node, found in dims.items()}


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


def _embedding_problems(
    node: str,
    names: list[str],
    input_dim: int | None,
    schema: dict[str, ColumnType],
    categories: dict[str, list[str] | None],
) -> list[Problem]:
    """An input feeding an Embedding takes category columns only (as indices), and the
    Embedding's ``input_dim`` must hold every value's index and the unknown one."""
    problems: list[Problem] = []
    for column in names:
        kind = schema.get(column)  # an unknown column is named once, by _column_problems
        if kind is not None and kind is not ColumnType.CATEGORY:
            problems.append(
                _problem(
                    f"x_columns: input node {node!r} feeds an Embedding, which takes category "
                    f"indices; column {column!r} is {kind.value}",
                    field="x_columns",
                    column=column,
                    node=node,
                )
            )
    needed = 1 + max((len(categories.get(c) or ()) for c in names), default=0)
    if input_dim is not None and input_dim < needed:
        problems.append(
            _problem(
                f"input node {node!r} feeds an Embedding of input_dim {input_dim}; its "
                f"columns' values take indices 1..{needed - 1} (0 for an unknown value): "
                f"input_dim must be at least {needed}",
                field="x_columns",
                node=node,
            )
        )
    return problems


def _input_problems(
    params: TrainingParams,
    check: GraphCheck,
    schema: dict[str, ColumnType],
    categories: dict[str, list[str] | None],
    embedded: dict[str, int | None],
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
        if node in embedded:
            problems.extend(_embedding_problems(node, names, embedded[node], schema, categories))
        width = input_width(
            names, categories, node in embedded, calendared_columns(params, columns, schema)
        )
        shape = check.shapes.get(node)
        if shape is not None and (len(shape) != 1 or shape[0] not in (None, width)):
            problems.append(
                _problem(
                    f"input node {node!r} takes rows of shape {shape}; x_columns gives it "
                    f"{width} value(s) a row (a category column one per value, or one "
                    "index where the input feeds an Embedding; a datetime with "
                    f"datetime_features calendar {CALENDAR_WIDTH})",
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


CALENDAR_WIDTH = 7
"""A datetime input fed by the calendar (``datetime_features: calendar``): its seconds
since the epoch, then the sine and cosine of where it falls in its year, week and day."""


def calendared_columns(
    params: TrainingParams, inputs: dict[str, list[str]], schema: dict[str, ColumnType]
) -> frozenset[str]:
    """The datetime input columns fed by the calendar: none unless asked for."""
    if params.datetime_features != "calendar":
        return frozenset()
    used = {column for columns in inputs.values() for column in columns}
    return frozenset(c for c in used if schema.get(c) is ColumnType.DATETIME)


def input_width(
    names: list[str],
    categories: dict[str, list[str] | None],
    index: bool = False,
    calendared: frozenset[str] = frozenset(),
) -> int:
    """Values a row gives an input: one per column, a category's one per value (one-hot)
    or one (an index, where the input feeds an Embedding), a calendared datetime's
    ``CALENDAR_WIDTH``."""
    return sum(
        (1 if index else len(categories.get(name) or ()) or 1)
        if categories.get(name)
        else CALENDAR_WIDTH
        if name in calendared
        else 1
        for name in names
    )


def training_problems(
    params: TrainingParams,
    check: GraphCheck,
    schema: dict[str, ColumnType],
    categories: dict[str, list[str] | None] | None = None,
    embedded: dict[str, int | None] | None = None,
) -> list[Problem]:
    """Every problem of ``params`` for this graph and this dataset's schema (with the
    values of its category columns, which inputs take one-hot, or as indices where the
    input node feeds an Embedding: ``embedded``, from :func:`embedding_inputs`)."""
    problems = _input_problems(params, check, schema, categories or {}, embedded or {})
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


RESERVED_OUTPUTS = (PREDICTION, PREDICTED_CLASS)
"""The names a prediction job's output columns take (``prediction_<i>`` too)."""


def prediction_problems(
    inputs: dict[str, list[str]],
    vocab: dict[str, list[str]],
    schema: dict[str, ColumnType],
    keep_columns: list[str],
    calendared: frozenset[str] = frozenset(),
) -> list[Problem]:
    """What a dataset to predict must agree with (pure): each of the model's x_columns,
    with a type it can take (a column it took as numbers: numbers, booleans or times; a
    category it took by its values: a category or text, matched by value; a datetime it
    took by the calendar: a datetime), and each ``keep_columns`` present and not named as
    an output column."""
    problems: list[Problem] = []
    for column in dict.fromkeys(c for columns in inputs.values() for c in columns):
        kind = schema.get(column)
        if kind is None:
            problems.append(
                _problem(
                    f"the dataset has no column {column!r}, an input of the model",
                    field="dataset_id",
                    column=column,
                )
            )
            continue
        takes = (
            CATEGORY_VALUES
            if column in vocab
            else frozenset({ColumnType.DATETIME})
            if column in calendared
            else NUMERIC_INPUTS
        )
        if kind not in takes:
            took = (
                "a category"
                if column in vocab
                else "a datetime (by the calendar)"
                if column in calendared
                else "numbers"
            )
            problems.append(
                _problem(
                    f"column {column!r} is {kind.value}; the model took it as {took}",
                    field="dataset_id",
                    column=column,
                    type=kind.value,
                )
            )
    for column in keep_columns:
        if column not in schema:
            problems.append(
                _problem(
                    f"keep_columns: the dataset has no column {column!r}",
                    field="keep_columns",
                    column=column,
                )
            )
        elif column in RESERVED_OUTPUTS or column.startswith(f"{PREDICTION}_"):
            problems.append(
                _problem(
                    f"keep_columns: {column!r} is the name of an output column",
                    field="keep_columns",
                    column=column,
                )
            )
    if len(set(keep_columns)) != len(keep_columns):
        problems.append(_problem("keep_columns: a column is named twice", field="keep_columns"))
    return problems
