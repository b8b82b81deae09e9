"""What an aggregation asks for, and checking it against a dataset's schema."""

from __future__ import annotations

import datetime as dt
import math
from enum import StrEnum
from typing import Any, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from sluice.inference.types import ColumnType, arrow_column_type


class AggOp(StrEnum):
    SUM = "sum"
    COUNT = "count"
    MEAN = "mean"
    MIN = "min"
    MAX = "max"
    COUNT_DISTINCT = "count_distinct"


class Aggregation(BaseModel):
    """One output column: ``op`` over ``column``; ``count`` over ``"*"`` counts rows."""

    model_config = ConfigDict(extra="forbid")

    column: str
    op: AggOp
    name: str | None = None

    @property
    def output_name(self) -> str:
        return self.name if self.name is not None else f"{self.op}_{self.column}"


PredicateOp = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not_in", "is_null", "not_null"]


class Predicate(BaseModel):
    """A row filter. Comparisons with a null value are false (the row is dropped), as in SQL.

    Values: bool columns take booleans; int and float columns numbers; string and category
    columns strings; datetime columns ISO strings ("2024-03-01", "2024-03-01T10:00:00") or
    datetimes; timedelta columns seconds (a number) or timedeltas. ``in``/``not_in`` take a
    list of such values; ``is_null``/``not_null`` take none. As in SQL, ``not_in []`` keeps
    every row (nulls too) and ``in []`` none, while ``not_in`` a non-empty list drops the
    rows whose value is null (``NULL NOT IN (1, 2)`` is NULL).
    """

    model_config = ConfigDict(extra="forbid")

    column: str
    op: PredicateOp
    value: Any = None


class AggregateSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group_by: list[str] = Field(default_factory=list)
    aggregations: list[Aggregation] = Field(min_length=1)
    filter: list[Predicate] = Field(default_factory=list)


def bmat_preset(
    song: str = "Song", date: str = "Date", plays: str = "Number of Plays"
) -> AggregateSpec:
    """BMAT's job: group by song and date, summing the plays under the input's own name."""
    return AggregateSpec(
        group_by=[song, date],
        aggregations=[Aggregation(column=plays, op=AggOp.SUM, name=plays)],
    )


# --- validation -------------------------------------------------------------------------

_BOOL = {ColumnType.BOOL}
_INTS = {ColumnType.INT8, ColumnType.INT16, ColumnType.INT32, ColumnType.INT64}
_FLOATS = {ColumnType.FLOAT32, ColumnType.FLOAT64}
_TEXT = {ColumnType.STRING, ColumnType.CATEGORY}
_SUMMABLE = _BOOL | _INTS | _FLOATS
_ORDERED = _SUMMABLE | _TEXT | {ColumnType.DATETIME, ColumnType.TIMEDELTA, ColumnType.DECIMAL}


def _value_problem(value: Any, column_type: ColumnType) -> str | None:
    """Why ``value`` cannot be compared with a column of ``column_type``, or None."""
    if value is None:
        return "null is not a value; use is_null/not_null"
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if column_type in _BOOL:
        ok = isinstance(value, bool)
    elif column_type in _INTS | _FLOATS | {ColumnType.DECIMAL}:
        ok = is_number and not (isinstance(value, float) and math.isnan(value))
    elif column_type in _TEXT:
        ok = isinstance(value, str)
    elif column_type is ColumnType.DATETIME:
        ok = isinstance(value, dt.date) or (isinstance(value, str) and parse_iso(value) is not None)
    else:  # TIMEDELTA
        ok = isinstance(value, dt.timedelta) or is_number
    if ok:
        return None
    return f"{value!r} cannot be compared with a {column_type} column"


def parse_iso(text: str) -> dt.datetime | None:
    """An ISO date or datetime as naive UTC, or None when the text is not one."""
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def validate_spec(spec: AggregateSpec, schema: dict[str, ColumnType]) -> list[str]:
    """Every problem of ``spec`` against a dataset's column types; an empty list = valid."""
    problems: list[str] = []
    seen_keys: dict[str, int] = {}
    for i, key in enumerate(spec.group_by):
        if key not in schema:
            problems.append(f"group_by[{i}]: no column {key!r}")
        elif key in seen_keys:
            problems.append(f"group_by[{i}]: {key!r} is already group_by[{seen_keys[key]}]")
        else:
            seen_keys[key] = i
    outputs: dict[str, str] = {key: f"group_by[{i}]" for key, i in seen_keys.items()}
    for i, agg in enumerate(spec.aggregations):
        where = f"aggregations[{i}]"
        if agg.column == "*":
            if agg.op is not AggOp.COUNT:
                problems.append(f"{where}.column: '*' is only valid with count, not {agg.op}")
        elif agg.column not in schema:
            problems.append(f"{where}.column: no column {agg.column!r}")
        else:
            column_type = schema[agg.column]
            if agg.op in (AggOp.SUM, AggOp.MEAN) and column_type not in _SUMMABLE:
                problems.append(
                    f"{where}.op: {agg.op} needs a bool, int or float column;"
                    f" {agg.column!r} is {column_type}"
                )
            if agg.op in (AggOp.MIN, AggOp.MAX) and column_type not in _ORDERED:
                problems.append(
                    f"{where}.op: {agg.op} needs a numeric, datetime, timedelta, string or"
                    f" category column; {agg.column!r} is {column_type}"
                )
        name = agg.output_name
        if not name:
            problems.append(f"{where}.name: an output name cannot be empty")
        elif name in outputs:
            problems.append(f"{where}.name: duplicate output name {name!r} (also {outputs[name]})")
        else:
            outputs[name] = where
    problems.extend(validate_filter(spec.filter, schema))
    return problems


def validate_filter(predicates: list[Predicate], schema: dict[str, ColumnType]) -> list[str]:
    """Every problem of a filter (``filter[i]...: ...``) against a dataset's column types."""
    problems: list[str] = []
    for i, pred in enumerate(predicates):
        where = f"filter[{i}]"
        if pred.column not in schema:
            problems.append(f"{where}.column: no column {pred.column!r}")
            continue
        column_type = schema[pred.column]
        if pred.op in ("is_null", "not_null"):
            if pred.value is not None:
                problems.append(f"{where}.value: {pred.op} takes no value")
        elif pred.op in ("in", "not_in"):
            if not isinstance(pred.value, list | tuple):
                problems.append(f"{where}.value: {pred.op} needs a list of values")
                continue
            for j, item in enumerate(pred.value):
                problem = _value_problem(item, column_type)
                if problem:
                    problems.append(f"{where}.value[{j}]: {problem}")
        else:
            problem = _value_problem(pred.value, column_type)
            if problem:
                problems.append(f"{where}.value: {problem}")
    return problems


def needed_columns(spec: AggregateSpec) -> list[str]:
    """The input columns ``spec`` reads, in first-use order, without duplicates."""
    names = [
        *spec.group_by,
        *(a.column for a in spec.aggregations if a.column != "*"),
        *(p.column for p in spec.filter),
    ]
    return list(dict.fromkeys(names))


def schema_types(schema: pa.Schema) -> dict[str, ColumnType]:
    """The sluice column types of an Arrow schema (columns of other types left out)."""
    types = {f.name: arrow_column_type(f.type) for f in schema}
    return {name: t for name, t in types.items() if t is not None}
