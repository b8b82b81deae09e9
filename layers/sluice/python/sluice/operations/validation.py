"""Checking a request's ``input_data`` against an operation's wizard, before anything runs.

Two passes: ``check_form`` needs nothing but the request (types, ranges, options,
required fields, defaults filled); ``check_columns`` then needs the column types of the
datasets the request names (columns that exist and have an allowed type, the filter and
aggregations against them, and the operation's own checks). Each problem names its field
as ``input_data.<key>...``; the first is the 422's message, all are its details.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from sluice.errors import Unprocessable
from sluice.inference.types import ColumnType
from sluice.operations.base import Operation
from sluice.operations.wizard import InputType, WizardInput
from sluice.tasks.aggregate import Aggregation, Predicate, validate_filter

_ID = re.compile(r"^[0-9a-f]{32}$")
DATASET_REF_TYPES = ("dataset", "operation_output")
"""What a dataset input may name: a dataset, or the dataset an operation wrote."""


class Problem(BaseModel):
    field: str
    problem: str


def refuse(problems: list[Problem]) -> Unprocessable:
    """The 422 for ``problems``: the first in the message, all in the details."""
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return Unprocessable(
        f"{first.field}: {first.problem}{more}", [p.model_dump() for p in problems]
    )


_predicates: TypeAdapter[list[Predicate]] = TypeAdapter(list[Predicate])
_aggregations: TypeAdapter[list[Aggregation]] = TypeAdapter(list[Aggregation])


def _dataset_ref(value: Any) -> tuple[dict[str, Any] | None, str | None]:
    if not isinstance(value, dict):
        return None, 'give a reference such as {"type": "dataset", "id": "<dataset id>"}'
    kind, ref_id = value.get("type"), value.get("id")
    if kind not in DATASET_REF_TYPES:
        return None, f"type must be one of {', '.join(DATASET_REF_TYPES)}, not {kind!r}"
    if not isinstance(ref_id, str) or not _ID.match(ref_id):
        return None, "id must be 32 hexadecimal digits"
    extra = set(value) - {"type", "id", "file"}
    if extra:
        return None, f"unknown keys {sorted(extra)}"
    ref = {"type": kind, "id": ref_id}
    if value.get("file") is not None:
        if not isinstance(value["file"], str):
            return None, "file must be a string"
        ref["file"] = value["file"]
    return ref, None


def _count_problem(spec: WizardInput, count: int, what: str) -> str | None:
    if spec.minimum is not None and count < spec.minimum:
        return f"give at least {int(spec.minimum)} {what}, not {count}"
    if spec.maximum is not None and count > spec.maximum:
        return f"give at most {int(spec.maximum)} {what}, not {count}"
    return None


def _range_problem(spec: WizardInput, value: float) -> str | None:
    if spec.minimum is not None and value < spec.minimum:
        return f"must be at least {spec.minimum:g}, not {value:g}"
    if spec.maximum is not None and value > spec.maximum:
        return f"must be at most {spec.maximum:g}, not {value:g}"
    return None


def _errors(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"[{where}]: {first['msg']}" if where else first["msg"]


def _checked(spec: WizardInput, value: Any) -> tuple[Any, str | None]:
    """The value as the run takes it, or why it is not one."""
    kind = spec.type
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind is InputType.DATASET:
        return _dataset_ref(value)
    if kind is InputType.DATASETS:
        if not isinstance(value, list):
            return None, "give a list of dataset references"
        refs = []
        for i, item in enumerate(value):
            ref, problem = _dataset_ref(item)
            if problem:
                return None, f"[{i}]: {problem}"
            refs.append(ref)
        return refs, _count_problem(spec, len(refs), "datasets")
    if kind is InputType.COLUMN:
        ok = isinstance(value, str) and value != ""
        return value, None if ok else "give a column name"
    if kind is InputType.COLUMNS:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return None, "give a list of column names"
        if len(set(value)) != len(value):
            return None, "a column is named twice"
        return value, _count_problem(spec, len(value), "columns")
    if kind is InputType.SELECT:
        ok = value in (spec.options or [])
        return value, None if ok else f"must be one of {spec.options}, not {value!r}"
    if kind is InputType.STRING:
        return value, None if isinstance(value, str) else "give a string"
    if kind is InputType.INT:
        if not is_number or (isinstance(value, float) and not value.is_integer()):
            return None, "give an integer"
        return int(value), _range_problem(spec, value)
    if kind is InputType.FLOAT:
        if not is_number or value != value:  # NaN is no bound and no value
            return None, "give a number"
        return float(value), _range_problem(spec, value)
    if kind is InputType.BOOL:
        return value, None if isinstance(value, bool) else "give true or false"
    adapter = _predicates if kind is InputType.FILTER else _aggregations
    try:
        parsed = adapter.validate_python(value)
    except ValidationError as exc:
        return None, _errors(exc)
    if kind is InputType.AGGREGATIONS:
        count_problem = _count_problem(spec, len(parsed), "aggregations")
        return [a.model_dump(mode="json") for a in parsed], count_problem
    count_problem = _count_problem(spec, len(parsed), "predicates")
    return [p.model_dump(mode="json") for p in parsed], count_problem


_MAX_DIGITS = 38
"""DynamoDB's numbers hold 38 significant digits; the request is stored with the run."""


def _storable(value: Any) -> str | None:
    """Why a checked value cannot be stored with the run's record (a number DynamoDB
    cannot hold), or None."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return None
    if isinstance(value, int):
        fits = abs(value) < 10**_MAX_DIGITS
        return None if fits else f"numbers hold at most {_MAX_DIGITS} digits"
    if isinstance(value, float):
        return None if math.isfinite(value) and abs(value) < 1e125 else "give a finite number"
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return next((p for p in map(_storable, value) if p), None)
    return None


def check_form(operation: type[Operation], raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` checked against the wizard, every field present (defaults filled); a 422
    naming each field that is unknown, missing or wrong."""
    problems: list[Problem] = []
    inputs: dict[str, Any] = {}
    for key in sorted(set(raw) - set(operation.inputs)):
        problems.append(Problem(field=f"input_data.{key}", problem="no such input"))
    for key, spec in operation.inputs.items():
        field = f"input_data.{key}"
        value = raw.get(key)
        if value is None:
            if spec.required and spec.default is None:
                problems.append(Problem(field=field, problem="required"))
                continue
            value = spec.default
            if value is None:
                inputs[key] = None
                continue
        checked, problem = _checked(spec, value)
        problem = problem or _storable(checked)
        if problem:
            problems.append(Problem(field=field, problem=problem))
        else:
            inputs[key] = checked
    if problems:
        raise refuse(problems)
    return inputs


def _column_problem(spec: WizardInput, name: str, schema: dict[str, ColumnType]) -> str | None:
    if name not in schema:
        return f"no column {name!r} in input_data.{spec.of}"
    allowed = spec.column_types
    if allowed and schema[name] not in allowed:
        kinds = ", ".join(t.value for t in allowed)
        return f"column {name!r} is {schema[name].value}; this input takes {kinds}"
    return None


def check_columns(
    operation: Operation,
    inputs: dict[str, Any],
    schemas: dict[str, dict[str, ColumnType]],
    rows: dict[str, int] | None = None,
) -> None:
    """The columns ``inputs`` name, against the column types of the datasets they are
    ``of`` (``schemas`` by dataset input key), and the operation's own checks; a 422
    naming each field that is wrong."""
    problems: list[Problem] = []
    for key, spec in operation.inputs.items():
        value = inputs.get(key)
        if value is None or spec.of is None:
            continue
        field, schema = f"input_data.{key}", schemas[spec.of]
        if spec.type is InputType.COLUMN:
            found = _column_problem(spec, value, schema)
            problems += [Problem(field=field, problem=found)] if found else []
        elif spec.type is InputType.COLUMNS:
            for i, name in enumerate(value):
                found = _column_problem(spec, name, schema)
                problems += [Problem(field=f"{field}[{i}]", problem=found)] if found else []
        elif spec.type is InputType.FILTER:
            for text in validate_filter(_predicates.validate_python(value), schema):
                where, problem = text.split(": ", 1)
                problems.append(
                    Problem(field=f"{field}{where.removeprefix('filter')}", problem=problem)
                )
    for text in [*operation.check(inputs, schemas), *operation.check_rows(inputs, rows or {})]:
        where, problem = text.split(": ", 1)
        problems.append(Problem(field=f"input_data.{where}", problem=problem))
    if problems:
        raise refuse(problems)


def canonical(operation: type[Operation], inputs: dict[str, Any]) -> dict[str, Any]:
    """``inputs`` with each list whose order does not matter (``ordered`` false) sorted,
    so that the same request in another order has the same cache key."""
    out = dict(inputs)
    for key, spec in operation.inputs.items():
        if not spec.ordered and isinstance(out.get(key), list):
            out[key] = sorted(out[key], key=lambda item: json.dumps(item, sort_keys=True))
    return out
