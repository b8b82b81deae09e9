"""Group-by aggregation as map/reduce over the typed Parquet parts of a dataset.

The pipeline runs one "partial" worker per part and one "reduce" worker per bucket:

* ``partial_aggregate(part, spec, R)`` filters the part, groups it and returns ``R``
  partial tables; a group lands in bucket ``hash(keys) % R``. The hash is computed from the
  key *values* (never from dictionary indices or row positions), so the same key lands in
  the same bucket whichever part it comes from and whichever process computes it.
* ``merge_partials(bucket_partials, spec)`` combines one bucket's partials from every part
  and finalises the aggregations.

Partial representation (one table per bucket, fixed schema even when empty, Parquet-safe):

* the group_by columns under their own names, then for aggregation ``i``:
  ``__agg{i}_sum`` (sum, mean), ``__agg{i}_count`` (count, mean), ``__agg{i}_min``,
  ``__agg{i}_max``, ``__agg{i}_distinct`` (count_distinct);
* "group rows": one per group of the part, carrying the sums, counts, mins and maxes
  (``__agg{i}_distinct`` null);
* "distinct rows" (long format): one per distinct non-null ``(keys..., value)`` of a
  count_distinct aggregation in the part, with that value in ``__agg{i}_distinct`` and
  every other aggregate column null.

Merging is then a single group_by over the concatenated partials: sums and counts are
summed, mins and maxes reduced, and ``count_distinct`` of the ``__agg{i}_distinct``
columns counts the distinct values across parts. Aggregates skip nulls like SQL; a null
group key is its own group; with an empty group_by there is exactly one group (in bucket
0), even when no row passes the filter.

Category columns are read as strings: their group keys and min/max come out as strings.
"""

from __future__ import annotations

import datetime as dt
import math
from enum import StrEnum
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field

from sluice.tables.aggregate_output import bucket_count, key_buckets, write_outputs
from sluice.tables.types import ColumnType

__all__ = [
    "AggOp",
    "AggregateSpec",
    "Aggregation",
    "Predicate",
    "bmat_preset",
    "bucket_count",
    "merge_partials",
    "needed_columns",
    "partial_aggregate",
    "validate_spec",
    "write_outputs",
]


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
    list of such values; ``is_null``/``not_null`` take none.
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
_ORDERED = _SUMMABLE | _TEXT | {ColumnType.DATETIME, ColumnType.TIMEDELTA}


def _value_problem(value: Any, column_type: ColumnType) -> str | None:
    """Why ``value`` cannot be compared with a column of ``column_type``, or None."""
    if value is None:
        return "null is not a value; use is_null/not_null"
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if column_type in _BOOL:
        ok = isinstance(value, bool)
    elif column_type in _INTS | _FLOATS:
        ok = is_number and not (isinstance(value, float) and math.isnan(value))
    elif column_type in _TEXT:
        ok = isinstance(value, str)
    elif column_type is ColumnType.DATETIME:
        ok = isinstance(value, dt.date) or (isinstance(value, str) and _iso(value) is not None)
    else:  # TIMEDELTA
        ok = isinstance(value, dt.timedelta) or is_number
    if ok:
        return None
    return f"{value!r} cannot be compared with a {column_type} column"


def _iso(text: str) -> dt.datetime | None:
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
    for i, pred in enumerate(spec.filter):
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


def _column_type(arrow: pa.DataType) -> ColumnType | None:
    if pa.types.is_dictionary(arrow):
        return ColumnType.CATEGORY
    if pa.types.is_boolean(arrow):
        return ColumnType.BOOL
    if pa.types.is_integer(arrow):
        return {8: ColumnType.INT8, 16: ColumnType.INT16, 32: ColumnType.INT32}.get(
            arrow.bit_width, ColumnType.INT64
        )
    if pa.types.is_floating(arrow):
        return ColumnType.FLOAT64 if arrow.bit_width == 64 else ColumnType.FLOAT32
    if pa.types.is_timestamp(arrow) or pa.types.is_date(arrow):
        return ColumnType.DATETIME
    if pa.types.is_duration(arrow):
        return ColumnType.TIMEDELTA
    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        return ColumnType.STRING
    return None


def schema_types(schema: pa.Schema) -> dict[str, ColumnType]:
    """The sluice column types of an Arrow schema (columns of other types left out)."""
    types = {f.name: _column_type(f.type) for f in schema}
    return {name: t for name, t in types.items() if t is not None}


# --- partial (map) side -----------------------------------------------------------------


def _sum_type(arrow: pa.DataType) -> pa.DataType:
    return pa.float64() if pa.types.is_floating(arrow) else pa.int64()


def _partial_fields(spec: AggregateSpec, types: dict[str, pa.DataType]) -> list[pa.Field]:
    fields = [pa.field(key, types[key]) for key in spec.group_by]
    for i, agg in enumerate(spec.aggregations):
        p = f"__agg{i}"
        if agg.op in (AggOp.SUM, AggOp.MEAN):
            fields.append(pa.field(f"{p}_sum", _sum_type(types[agg.column])))
        if agg.op in (AggOp.COUNT, AggOp.MEAN):
            fields.append(pa.field(f"{p}_count", pa.int64()))
        if agg.op in (AggOp.MIN, AggOp.MAX):
            fields.append(pa.field(f"{p}_{agg.op}", types[agg.column]))
        if agg.op is AggOp.COUNT_DISTINCT:
            fields.append(pa.field(f"{p}_distinct", types[agg.column]))
    return fields


def _arrow_value(value: Any, arrow: pa.DataType) -> Any:
    """A validated predicate value as something Arrow compares with a column of ``arrow``."""
    if pa.types.is_timestamp(arrow) or pa.types.is_date(arrow):
        if isinstance(value, str):
            value = _iso(value)
        elif not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time())
        return pa.scalar(value, pa.timestamp("us")).cast(arrow)
    if pa.types.is_duration(arrow):
        if not isinstance(value, dt.timedelta):
            value = dt.timedelta(seconds=value)
        return pa.scalar(value, pa.duration("us")).cast(arrow)
    return value


def _predicate_expression(pred: Predicate, arrow: pa.DataType) -> pc.Expression:
    field = pc.field(pred.column)
    if pred.op == "is_null":
        return field.is_null()
    if pred.op == "not_null":
        return field.is_valid()
    if pred.op in ("in", "not_in"):
        values = [_arrow_value(v, arrow) for v in pred.value]
        if pa.types.is_integer(arrow):  # an int column never equals 2.5; 2.0 means 2
            values = [int(v) for v in values if float(v).is_integer()]
        value_set = pa.array(values, type=arrow)
        inside = field.isin(value_set)
        return inside if pred.op == "in" else ~inside & field.is_valid()
    value = _arrow_value(pred.value, arrow)
    compare = {
        "==": field.__eq__,
        "!=": field.__ne__,
        "<": field.__lt__,
        "<=": field.__le__,
        ">": field.__gt__,
        ">=": field.__ge__,
    }[pred.op]
    result: pc.Expression = compare(value)
    return result


def _decode(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(column.type):
        return pc.cast(column, column.type.value_type)
    return column


def partial_aggregate(table: pa.Table, spec: AggregateSpec, buckets: int) -> list[pa.Table]:
    """Filter and group one part; return ``buckets`` partial tables (see the module doc)."""
    if buckets < 1:
        raise ValueError(f"buckets must be at least 1, not {buckets}")
    problems = validate_spec(spec, schema_types(table.schema))
    if problems:
        raise ValueError("invalid aggregate spec: " + "; ".join(problems))
    names = needed_columns(spec)
    data = table.select(names)
    for index, name in enumerate(names):
        data = data.set_column(index, name, _decode(data.column(name)))
    types = {name: data.schema.field(name).type for name in names}
    if spec.filter:
        expression = _predicate_expression(spec.filter[0], types[spec.filter[0].column])
        for pred in spec.filter[1:]:
            expression = expression & _predicate_expression(pred, types[pred.column])
        data = data.filter(expression)

    schema = pa.schema(_partial_fields(spec, types))
    keys = list(spec.group_by)
    work = data.select(keys)
    aggs: list[tuple[Any, str]] = []
    sources: dict[str, str] = {}  # partial column -> group_by output column
    for i, agg in enumerate(spec.aggregations):
        p = f"__agg{i}"
        if agg.column == "*":
            aggs.append(([], "count_all"))
            sources[f"{p}_count"] = "count_all"
            continue
        column = data.column(agg.column)
        if agg.op in (AggOp.SUM, AggOp.MEAN):
            column = pc.cast(column, _sum_type(column.type))
        ops = {
            AggOp.SUM: ["sum"],
            AggOp.MEAN: ["sum", "count"],
            AggOp.COUNT: ["count"],
            AggOp.MIN: ["min"],
            AggOp.MAX: ["max"],
            AggOp.COUNT_DISTINCT: [],
        }[agg.op]
        if agg.op in (AggOp.MIN, AggOp.MAX) and pa.types.is_duration(column.type):
            column = pc.cast(column, pa.int64())  # Arrow has no min/max kernel for durations
        work = work.append_column(p, column)
        for op in ops:
            aggs.append((p, op))
            sources[f"{p}_{op}"] = f"{p}_{op}"
    grouped = work.group_by(keys, use_threads=True).aggregate(aggs)
    parts = [_conform(grouped, schema, sources)]
    for i, agg in enumerate(spec.aggregations):
        if agg.op is AggOp.COUNT_DISTINCT:
            p = f"__agg{i}_distinct"
            values = work.select([*keys, f"__agg{i}"]).rename_columns([*keys, p])
            values = values.filter(pc.field(p).is_valid())
            distinct = values.group_by([*keys, p], use_threads=True).aggregate([])
            parts.append(_conform(distinct, schema, {p: p}))
    partial = pa.concat_tables(parts).combine_chunks()
    return _split(partial, keys, buckets)


def _conform(table: pa.Table, schema: pa.Schema, sources: dict[str, str]) -> pa.Table:
    """``table`` in the partial schema: keys kept, aggregate columns taken from ``sources``
    and cast to their partial type, the others all null."""
    columns = []
    for field in schema:
        name = field.name if field.name in table.column_names else sources.get(field.name)
        if name is None:
            columns.append(pa.nulls(table.num_rows, field.type))
        else:
            columns.append(table.column(name).cast(field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _split(partial: pa.Table, keys: list[str], buckets: int) -> list[pa.Table]:
    if buckets == 1:
        return [partial]
    if not keys:  # one group: bucket 0 holds it
        return [partial, *(partial.slice(0, 0) for _ in range(buckets - 1))]
    bucket = key_buckets([partial.column(k) for k in keys], buckets)
    order = np.argsort(bucket, kind="stable")
    ordered = partial.take(pa.array(order))
    ends = np.cumsum(np.bincount(bucket, minlength=buckets))
    starts = ends - np.bincount(bucket, minlength=buckets)
    return [ordered.slice(int(s), int(e - s)) for s, e in zip(starts, ends, strict=True)]


# --- merge (reduce) side ----------------------------------------------------------------


def merge_partials(partials: list[pa.Table], spec: AggregateSpec) -> pa.Table:
    """One bucket's partials from every part, merged and finalised: the group_by columns,
    then one column per aggregation named ``output_name``, sorted by the group keys."""
    if not partials:
        raise ValueError("merge_partials needs at least one partial table")
    combined = pa.concat_tables(partials, promote_options="permissive")
    min_max_types: dict[str, pa.DataType] = {}
    for index, field in enumerate(combined.schema):
        is_min_max = field.name.startswith("__agg") and field.name.endswith(("_min", "_max"))
        if is_min_max and pa.types.is_duration(field.type):
            min_max_types[field.name] = field.type  # no min/max kernel for durations
            combined = combined.set_column(index, field.name, combined.column(index).cast("int64"))
    keys = list(spec.group_by)
    aggs: list[tuple[str, str]] = []
    for i, agg in enumerate(spec.aggregations):
        p = f"__agg{i}"
        if agg.op in (AggOp.SUM, AggOp.MEAN):
            aggs.append((f"{p}_sum", "sum"))
        if agg.op in (AggOp.COUNT, AggOp.MEAN):
            aggs.append((f"{p}_count", "sum"))
        if agg.op in (AggOp.MIN, AggOp.MAX):
            aggs.append((f"{p}_{agg.op}", str(agg.op)))
        if agg.op is AggOp.COUNT_DISTINCT:
            aggs.append((f"{p}_distinct", "count_distinct"))
    merged = combined.group_by(keys, use_threads=True).aggregate(aggs)
    if not keys and combined.num_rows == 0:
        merged = merged.slice(0, 0)  # the single group lives in another bucket

    columns: dict[str, pa.ChunkedArray] = {key: merged.column(key) for key in keys}
    for i, agg in enumerate(spec.aggregations):
        p = f"__agg{i}"
        if agg.op is AggOp.SUM:
            out = merged.column(f"{p}_sum_sum")
        elif agg.op is AggOp.COUNT:
            out = merged.column(f"{p}_count_sum").fill_null(0)
        elif agg.op is AggOp.MEAN:
            total = pc.cast(merged.column(f"{p}_sum_sum"), pa.float64())
            count = merged.column(f"{p}_count_sum")
            out = pc.if_else(pc.greater(count, 0), pc.divide(total, count), None)
        elif agg.op is AggOp.COUNT_DISTINCT:
            out = merged.column(f"{p}_distinct_count_distinct")
        else:
            out = merged.column(f"{p}_{agg.op}_{agg.op}")
            if f"{p}_{agg.op}" in min_max_types:
                out = out.cast(min_max_types[f"{p}_{agg.op}"])
        columns[agg.output_name] = out
    result = pa.table(columns)
    if keys:
        result = result.sort_by([(key, "ascending") for key in keys])
    return result
