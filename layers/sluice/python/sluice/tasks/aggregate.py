"""Group-by aggregation as map/reduce over the typed Parquet parts of a dataset.

The pipeline runs one "partial" worker per part and one "reduce" worker per bucket:

* ``partial_aggregate(part, spec, R)`` filters the part, groups it and returns ``R``
  partial tables; a group lands in bucket ``hash(keys) % R``. The hash is computed from the
  key *values* (never from dictionary indices or row positions), so the same key lands in
  the same bucket whichever part it comes from and whichever process computes it.
* ``merge_partials(bucket_partials, spec)`` combines one bucket's partials from every part
  and finalises the aggregations.

Partial representation (one table per bucket, one schema for all of a part's buckets,
even empty ones; Parquet-safe):

* the group_by columns under their own names (a text or category key of few distinct
  values as a dictionary of them, which each part makes its own; see
  :func:`_shuffled_keys`), then for aggregation ``i``:
  ``__agg{i}_sum`` (sum, mean of floats: float64), or its exact limbs for integers and
  booleans (``__agg{i}_sum_hi``, ``_mid``, ``_lo``; see "Exact integer sums"),
  ``__agg{i}_count`` (count, mean), ``__agg{i}_min``, ``__agg{i}_max``,
  ``__agg{i}_distinct`` (count_distinct);
* "group rows": one per group of the part, carrying the sums, counts, mins and maxes
  (``__agg{i}_distinct`` null);
* "distinct rows" (long format): one per distinct non-null ``(keys..., value)`` of a
  count_distinct aggregation in the part, with that value in ``__agg{i}_distinct`` and
  every other aggregate column null;
* with a group_by, last, ``__key_hash``: the high 32 bits of the row's key hash, which
  the reducer orders its rows by instead of hashing every key a second time.

Merging is then a single group_by over the concatenated partials (a key sent as a
dictionary by some parts and as values by others merged as values, the parts' dictionaries
unified into one, and the keys put out as values): sums and counts are
summed, mins and maxes reduced, and ``count_distinct`` of the ``__agg{i}_distinct``
columns counts the distinct values across parts. Aggregates skip nulls like SQL; a null
group key is its own group; with an empty group_by there is exactly one group (in bucket
0), even when no row passes the filter.

Category columns are read as strings: their group keys and min/max come out as strings.

Exact integer sums. Arrow's sums of int64 wrap modulo 2**64 without a word, so an integer
sum travels as limbs of 21 bits: ``value = hi * 2**42 + mid * 2**21 + lo`` with ``mid`` and
``lo`` in ``[0, 2**21)`` (an int64 column splits each value so, by shifts and masks);
booleans and narrower integers, whose sums within a part fit int64, carry ``mid`` and
``lo`` of their part's sums only. Each limb is summed by Arrow as an int64, which cannot
wrap for fewer than 2**42 rows, and a partial carries its limbs carried back into range.
The reducer adds the limbs and puts the total together: int64 arithmetic where it fits,
Python's integers where it does not. The sum of an int64 column is a ``decimal128(38, 0)``
(as DuckDB's is a HUGEINT), exact past int64; that of a narrower integer or boolean
column an int64 (it fits for fewer than 2**32 rows; past int64 the task fails, never
wraps). A mean divides the exact sum by the count in float64 (the sum rounded to float64
once, then the division), and a float sum adds in float64.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluice.inference.types import ColumnType
from sluice.tasks.aggregate_output import (
    bucket_count,
    hash_buckets,
    key_hash,
    numbers,
    write_outputs,
)
from sluice.tasks.aggregate_spec import (
    AggOp,
    AggregateSpec,
    Aggregation,
    Predicate,
    bmat_preset,
    needed_columns,
    parse_iso,
    validate_filter,
    validate_spec,
)

__all__ = [
    "AggOp",
    "AggregateSpec",
    "Aggregation",
    "Predicate",
    "bmat_preset",
    "bucket_count",
    "filter_rows",
    "merge_partials",
    "needed_columns",
    "partial_aggregate",
    "validate_filter",
    "validate_spec",
    "write_outputs",
]


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
    if pa.types.is_decimal(arrow) and arrow.scale == 0:
        return ColumnType.DECIMAL
    return None


def schema_types(schema: pa.Schema) -> dict[str, ColumnType]:
    """The sluice column types of an Arrow schema (columns of other types left out)."""
    types = {f.name: _column_type(f.type) for f in schema}
    return {name: t for name, t in types.items() if t is not None}


# --- partial (map) side -----------------------------------------------------------------


LIMB_BITS = 21
_LIMB_MASK = (1 << LIMB_BITS) - 1
WIDE_LIMBS = ("hi", "mid", "lo")
"""The limbs of an int64 column's sums (see "Exact integer sums" in the module doc)."""
NARROW_LIMBS = ("mid", "lo")
"""The limbs of a boolean's or narrower integer's sums."""
WIDE_SUM = pa.decimal128(38, 0)
"""The type of an int64 column's sum: 38 digits hold any sum of fewer than 2**63 rows."""


def _sum_limbs(arrow: pa.DataType) -> tuple[str, ...]:
    """The limbs a sum of a column of ``arrow`` travels in; () for floats (one float64)."""
    if pa.types.is_floating(arrow):
        return ()
    return WIDE_LIMBS if pa.types.is_int64(arrow) else NARROW_LIMBS


def _partial_fields(
    spec: AggregateSpec, types: dict[str, pa.DataType], key_types: dict[str, pa.DataType]
) -> list[pa.Field]:
    fields = [pa.field(key, key_types[key]) for key in spec.group_by]
    for i, agg in enumerate(spec.aggregations):
        p = f"__agg{i}"
        if agg.op in (AggOp.SUM, AggOp.MEAN):
            limbs = _sum_limbs(types[agg.column])
            if not limbs:
                fields.append(pa.field(f"{p}_sum", pa.float64()))
            fields.extend(pa.field(f"{p}_sum_{limb}", pa.int64()) for limb in limbs)
        if agg.op in (AggOp.COUNT, AggOp.MEAN):
            fields.append(pa.field(f"{p}_count", pa.int64()))
        if agg.op in (AggOp.MIN, AggOp.MAX):
            fields.append(pa.field(f"{p}_{agg.op}", types[agg.column]))
        if agg.op is AggOp.COUNT_DISTINCT:
            fields.append(pa.field(f"{p}_distinct", types[agg.column]))
    if spec.group_by:
        fields.append(pa.field(KEY_HASH, pa.uint32()))
    return fields


KEY_HASH = "__key_hash"


def _arrow_value(value: Any, arrow: pa.DataType) -> Any:
    """A validated predicate value as something Arrow compares with a column of ``arrow``."""
    if pa.types.is_timestamp(arrow) or pa.types.is_date(arrow):
        if isinstance(value, str):
            value = parse_iso(value)
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
        if not pred.value:  # as in SQL: nothing is IN (), everything (null too) NOT IN ()
            return pc.scalar(pred.op == "not_in")
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


_ROW = "__row"


def filter_rows(table: pa.Table, predicates: list[Predicate]) -> pa.Table:
    """The rows of ``table`` that pass every predicate (validated: ``validate_filter``),
    with every column as it is (categories stay dictionaries). The predicates are those of
    a task's filter, evaluated the same way, on the decoded columns they read."""
    if not predicates:
        return table
    names = list(dict.fromkeys(p.column for p in predicates))
    data = pa.table({name: _decode(table.column(name)) for name in names})
    types = {name: data.schema.field(name).type for name in names}
    expression = _predicate_expression(predicates[0], types[predicates[0].column])
    for pred in predicates[1:]:
        expression = expression & _predicate_expression(pred, types[pred.column])
    # The passing rows' positions, then those rows of every column: one take, no copy of
    # the columns the predicates do not read.
    data = data.append_column(_ROW, pa.array(np.arange(table.num_rows, dtype=np.int64)))
    return table.take(data.filter(expression).column(_ROW))


def partial_aggregate(table: pa.Table, spec: AggregateSpec, buckets: int) -> list[pa.Table]:
    """Filter and group one part; return ``buckets`` partial tables (see the module doc)."""
    if buckets < 1:
        raise ValueError(f"buckets must be at least 1, not {buckets}")
    problems = validate_spec(spec, schema_types(table.schema))
    if problems:
        raise ValueError("invalid aggregate spec: " + "; ".join(problems))
    names = needed_columns(spec)
    # The filter reads decoded values; the rows that pass keep their categories encoded,
    # for the keys (below).
    raw = filter_rows(table.select(names), list(spec.filter))
    data = raw
    for index, name in enumerate(names):
        data = data.set_column(index, name, _decode(data.column(name)))
    types = {name: data.schema.field(name).type for name in names}

    keys = list(spec.group_by)
    work = _shuffled_keys(raw.select(keys), buckets)
    schema = pa.schema(_partial_fields(spec, types, {k: work.schema.field(k).type for k in keys}))
    aggs: list[tuple[Any, str]] = []
    sources: dict[str, str] = {}  # partial column -> group_by output column
    exact: dict[str, list[str]] = {}  # partial prefix -> its sums of limbs, or of values
    for i, agg in enumerate(spec.aggregations):
        p = f"__agg{i}"
        if agg.column == "*":
            aggs.append(([], "count_all"))
            sources[f"{p}_count"] = "count_all"
            continue
        column = data.column(agg.column)
        ops = {
            AggOp.SUM: ["sum"],
            AggOp.MEAN: ["sum", "count"],
            AggOp.COUNT: ["count"],
            AggOp.MIN: ["min"],
            AggOp.MAX: ["max"],
            AggOp.COUNT_DISTINCT: [],
        }[agg.op]
        if agg.op in (AggOp.SUM, AggOp.MEAN):
            limbs = _sum_limbs(column.type)
            if not limbs:
                column = pc.cast(column, pa.float64())  # float sums add in float64
            else:  # summed exactly, as limbs (see the module doc)
                ops = [op for op in ops if op != "sum"]
                exact[p] = []
                for name, values in _row_sum_sources(column, p, limbs).items():
                    work = work.append_column(name, values)
                    aggs.append((name, "sum"))
                    exact[p].append(f"{name}_sum")
        if agg.op in (AggOp.MIN, AggOp.MAX) and pa.types.is_duration(column.type):
            column = pc.cast(column, pa.int64())  # Arrow has no min/max kernel for durations
        work = work.append_column(p, column)
        for op in ops:
            aggs.append((p, op))
            sources[f"{p}_{op}"] = f"{p}_{op}"
    if keys and _mostly_distinct(work.select(keys).slice(0, DISTINCT_SAMPLE_ROWS), keys):
        grouped = _rows_as_groups(work, keys, aggs)
    else:
        grouped = work.group_by(keys, use_threads=True).aggregate(aggs)
    for p, sums in exact.items():
        limbs = WIDE_LIMBS if len(sums) == len(WIDE_LIMBS) else NARROW_LIMBS
        columns = [grouped.column(name) for name in sums]
        for limb, values in zip(limbs, _group_limbs(columns, len(limbs)), strict=True):
            grouped = grouped.append_column(f"{p}_sum_{limb}", values)
            sources[f"{p}_sum_{limb}"] = f"{p}_sum_{limb}"
    parts = [_conform(grouped, schema, sources)]
    for i, agg in enumerate(spec.aggregations):
        if agg.op is AggOp.COUNT_DISTINCT:
            p = f"__agg{i}_distinct"
            values = work.select([*keys, f"__agg{i}"]).rename_columns([*keys, p])
            values = values.filter(pc.field(p).is_valid())
            distinct = values.group_by([*keys, p], use_threads=True).aggregate([])
            parts.append(_conform(distinct, schema, {p: p}))
    partial = pa.concat_tables(parts).combine_chunks()
    if not keys:  # one group: bucket 0 holds it
        return [partial, *(partial.slice(0, 0) for _ in range(buckets - 1))]
    hashed = key_hash([partial.column(k) for k in keys])
    # 32 bits are enough to order a bucket by (a 1M-row bucket shares ~100 of them, which
    # the order resolves by the keys), and half the bytes of 64 to carry.
    high = pa.array(_high_bits(hashed))
    partial = partial.set_column(partial.schema.get_field_index(KEY_HASH), KEY_HASH, high)
    return _split(partial, hashed, buckets)


def _row_sum_sources(
    column: pa.ChunkedArray, p: str, limbs: tuple[str, ...]
) -> dict[str, pa.Array]:
    """What a part sums per group for an exact sum of ``column``: an int64 column's values
    split into ``limbs`` (each sum of them fits int64), a narrower one's values as they are
    (their sum fits int64 in a part)."""
    values = pc.cast(column, pa.int64()).combine_chunks()
    if limbs != WIDE_LIMBS:
        return {f"{p}_whole": values}
    mask = np.asarray(values.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    return {
        f"{p}_{limb}": pa.array(part, mask=mask)
        for limb, part in zip(limbs, _split_limbs(numbers(values), len(limbs)), strict=True)
    }


def _split_limbs(values: np.ndarray, count: int) -> list[np.ndarray]:
    """int64 ``values`` as ``count`` limbs, top first: every limb but the top in
    ``[0, 2**21)``, the top signed (shifts are arithmetic)."""
    limbs = []
    for _ in range(count - 1):
        limbs.append(values & _LIMB_MASK)
        values = values >> LIMB_BITS
    limbs.append(values)
    return limbs[::-1]


def _carried(limbs: list[np.ndarray]) -> list[np.ndarray]:
    """Sums of limbs (top first) with every limb but the top back in ``[0, 2**21)``."""
    limbs = list(limbs)
    for j in range(len(limbs) - 1, 0, -1):
        limbs[j - 1] = limbs[j - 1] + (limbs[j] >> LIMB_BITS)
        limbs[j] = limbs[j] & _LIMB_MASK
    return limbs


def _limb_arrays(columns: list[Any]) -> tuple[list[np.ndarray], np.ndarray]:
    """int64 columns as numpy arrays (null -> 0; read-only where a column had no nulls:
    Arrow's own memory), and where the first is null."""
    mask = np.asarray(columns[0].is_null().to_numpy(zero_copy_only=False), dtype=bool)
    return [numbers(c).astype(np.int64, copy=False) for c in columns], mask


def _group_limbs(columns: list[Any], count: int) -> list[pa.Array]:
    """A part's per-group sums (of limbs, or of whole values) as ``count`` carried limbs;
    null where the group had no value to sum."""
    arrays, mask = _limb_arrays(columns)
    # Whole values split into limbs are in range already; sums of limbs need carrying.
    limbs = _split_limbs(arrays[0], count) if len(arrays) == 1 else _carried(arrays)
    return [pa.array(limb, mask=mask) for limb in limbs]


DISTINCT_SAMPLE_ROWS = 65_536
MOSTLY_DISTINCT = 0.9
"""When a sample of a part has at least this many groups per row, grouping the part
would hardly shrink it: its rows go to the buckets as they are, one group each, and
the reducers (which group anyway) do all the merging."""


def _mostly_distinct(sample: pa.Table, keys: list[str]) -> bool:
    """Whether nearly every row of ``sample`` is a group of its own."""
    if sample.num_rows == 0:
        return False
    groups = sample.group_by(keys, use_threads=False).aggregate([]).num_rows
    return groups >= MOSTLY_DISTINCT * sample.num_rows


def _rows_as_groups(work: pa.Table, keys: list[str], aggs: list[tuple[Any, str]]) -> pa.Table:
    """Every row as a group of its own, named as ``group_by(keys).aggregate(aggs)`` names
    its columns: a value's sum, min and max are itself, its count 1 unless it is null."""
    columns: dict[str, Any] = {key: work.column(key) for key in keys}
    for source, op in aggs:
        if op == "count_all":
            columns["count_all"] = pa.array(np.ones(work.num_rows, dtype=np.int64))
        elif op == "count":
            columns[f"{source}_count"] = pc.cast(pc.is_valid(work.column(source)), pa.int64())
        else:  # sum, min, max
            columns[f"{source}_{op}"] = work.column(source)
    return pa.table(columns)


def _conform(table: pa.Table, schema: pa.Schema, sources: dict[str, str]) -> pa.Table:
    """``table`` in the partial schema: keys kept, aggregate columns taken from ``sources``
    and cast to their partial type, the others (and the key hash, for now) all null."""
    columns = []
    for field in schema:
        name = field.name if field.name in table.column_names else sources.get(field.name)
        if name is None:
            columns.append(pa.nulls(table.num_rows, field.type))
        else:
            columns.append(table.column(name).cast(field.type))
    return pa.Table.from_arrays(columns, schema=schema)


TEXT_TYPES = (pa.string(), pa.large_string(), pa.binary(), pa.large_binary())
FEW_DISTINCT = 0.5
"""A text key whose sample (a part's first DISTINCT_SAMPLE_ROWS rows) has at most this
share of distinct values is dictionary-encoded for the shuffle."""


def _shuffled_keys(keys: pa.Table, buckets: int) -> pa.Table:
    """A part's group keys as its partials carry them: a text (or category) key of few
    distinct values as a dictionary of them, the others as they are.

    On BMAT's 10,000-song file a part's 1.2M titles are 10,000 texts: encoded, the
    partial hashes 10,000 texts, not 1.2M (0.003 against 0.23 s), splits and sends 4-byte
    indices instead of ~25-byte texts, and the reducer groups by the indices (Arrow's
    group-by took 0.2 s for a part's rows by (index, date), 0.6 s by (text, date)). Each
    bucket's stream carries the whole dictionary, so a key whose dictionary, once per
    bucket, would hold more values than the part has rows goes as texts (categories
    decoded): a high-cardinality key gains nothing from a dictionary."""
    for index, name in enumerate(keys.column_names):
        column = keys.column(index)
        kind = column.type
        if pa.types.is_dictionary(kind):
            encoded = column.combine_chunks()  # one dictionary for the part's row groups
        elif kind in TEXT_TYPES and _few_distinct(column.slice(0, DISTINCT_SAMPLE_ROWS)):
            encoded = pc.dictionary_encode(column.combine_chunks())
        else:
            continue
        if len(encoded) and len(encoded.dictionary) * buckets > len(encoded):
            keys = keys.set_column(index, name, _decode(column))
        else:
            keys = keys.set_column(index, name, encoded)
    return keys


def _few_distinct(sample: pa.ChunkedArray) -> bool:
    """Whether at most FEW_DISTINCT of ``sample``'s values are distinct."""
    return len(pc.unique(sample)) <= FEW_DISTINCT * max(len(sample), 1)


def _split(partial: pa.Table, hashed: np.ndarray, buckets: int) -> list[pa.Table]:
    """The rows of ``partial`` in ``buckets`` tables, by their key hashes ``hashed``."""
    if buckets == 1:
        return [partial]
    bucket = hash_buckets(hashed, buckets)
    # numpy sorts integers of 16 bits or fewer stably by radix, in one linear pass.
    order = np.argsort(bucket.astype(np.min_scalar_type(buckets - 1)), kind="stable")
    ordered = partial.take(pa.array(order))
    counts = np.bincount(bucket, minlength=buckets)
    ends = np.cumsum(counts)
    starts = ends - counts
    return [ordered.slice(int(s), int(e - s)) for s, e in zip(starts, ends, strict=True)]


# --- merge (reduce) side ----------------------------------------------------------------


def merge_partials(partials: list[pa.Table], spec: AggregateSpec) -> pa.Table:
    """One bucket's partials from every part, merged and finalised: the group_by columns,
    then one column per aggregation named ``output_name``, one row per group in no set
    order (a bucket is one of many files anyway: sorting would cost, not give, an order)."""
    if not partials:
        raise ValueError("merge_partials needs at least one partial table")
    _same_sum_kinds(partials, spec)
    keys = list(spec.group_by)
    combined = pa.concat_tables(_same_key_types(partials, keys), promote_options="permissive")
    for key in keys:
        index = combined.schema.get_field_index(key)
        if pa.types.is_dictionary(combined.schema.field(index).type):
            # Each part's dictionary is its own: one for all of them (the group-by needs
            # it), made from their few values, the indices remapped.
            combined = combined.set_column(index, key, combined.column(index).combine_chunks())
    min_max_types: dict[str, pa.DataType] = {}
    for index, field in enumerate(combined.schema):
        is_min_max = field.name.startswith("__agg") and field.name.endswith(("_min", "_max"))
        if is_min_max and pa.types.is_duration(field.type):
            min_max_types[field.name] = field.type  # no min/max kernel for durations
            combined = combined.set_column(index, field.name, combined.column(index).cast("int64"))
    aggs: list[tuple[str, str]] = []
    for i, agg in enumerate(spec.aggregations):
        p = f"__agg{i}"
        if agg.op in (AggOp.SUM, AggOp.MEAN):
            for name in _sum_columns(combined.column_names, p):
                aggs.append((name, "sum"))
        if agg.op in (AggOp.COUNT, AggOp.MEAN):
            aggs.append((f"{p}_count", "sum"))
        if agg.op in (AggOp.MIN, AggOp.MAX):
            aggs.append((f"{p}_{agg.op}", str(agg.op)))
        if agg.op is AggOp.COUNT_DISTINCT:
            aggs.append((f"{p}_distinct", "count_distinct"))
    merged = _sums_in_hash_order(combined, keys, aggs)
    if merged is None:
        merged = combined.group_by(keys, use_threads=True).aggregate(aggs)
    if not keys and combined.num_rows == 0:
        merged = merged.slice(0, 0)  # the single group lives in another bucket

    columns: dict[str, pa.ChunkedArray] = {key: _decode(merged.column(key)) for key in keys}
    for i, agg in enumerate(spec.aggregations):
        p = f"__agg{i}"
        sums = [f"{name}_sum" for name in _sum_columns(combined.column_names, p)]
        if agg.op is AggOp.SUM:
            out = _final_sum(merged, sums, agg.column)
        elif agg.op is AggOp.COUNT:
            out = merged.column(f"{p}_count_sum").fill_null(0)
        elif agg.op is AggOp.MEAN:
            out = _final_mean(merged, sums, merged.column(f"{p}_count_sum"))
        elif agg.op is AggOp.COUNT_DISTINCT:
            out = merged.column(f"{p}_distinct_count_distinct")
        else:
            out = merged.column(f"{p}_{agg.op}_{agg.op}")
            if f"{p}_{agg.op}" in min_max_types:
                out = out.cast(min_max_types[f"{p}_{agg.op}"])
        columns[agg.output_name] = out
    return pa.table(columns)


def _same_key_types(partials: list[pa.Table], keys: list[str]) -> list[pa.Table]:
    """The partials with each key in one form: where some parts sent a key as a
    dictionary and others as values (see :func:`_shuffled_keys`), all as values."""
    for key in keys:
        if len({t.schema.field(key).type for t in partials}) > 1:
            partials = [
                t.set_column(t.schema.get_field_index(key), key, _decode(t.column(key)))
                for t in partials
            ]
    return partials


def _same_sum_kinds(partials: list[pa.Table], spec: AggregateSpec) -> None:
    """Refuse partials that carry one sum in different forms (a float64 from one part,
    integer limbs from another): their columns would merge as nulls, a wrong answer. The
    parts of one typed dataset share its types, so this is a part left of another type."""
    for i, agg in enumerate(spec.aggregations):
        if agg.op not in (AggOp.SUM, AggOp.MEAN):
            continue
        kinds = {tuple(_sum_columns(t.column_names, f"__agg{i}")) for t in partials}
        if len(kinds) > 1:
            raise ValueError(
                f"the parts disagree on the type of column {agg.column!r}: "
                "they cannot be summed together"
            )


def _sum_columns(names: list[str], p: str) -> list[str]:
    """The partial columns that carry aggregation ``p``'s sums: one float64, or limbs."""
    if f"{p}_sum" in names:
        return [f"{p}_sum"]
    limbs = WIDE_LIMBS if f"{p}_sum_hi" in names else NARROW_LIMBS
    return [f"{p}_sum_{limb}" for limb in limbs]


def _exact_totals(
    merged: pa.Table, sums: list[str]
) -> tuple[np.ndarray, np.ndarray, dict[int, int]]:
    """The groups' exact sums from their summed limbs: int64 values (0 where null or too
    large), where null, and the sums past int64 by row (as Python integers)."""
    arrays, mask = _limb_arrays([merged.column(name) for name in sums])
    limbs = _carried(arrays)
    shift = LIMB_BITS * (len(limbs) - 1)
    rest = np.zeros(len(mask), dtype=np.int64)
    for limb in limbs[1:]:
        rest = (rest << LIMB_BITS) | limb
    top = limbs[0]
    # top * 2**shift + rest, rest in [0, 2**shift): within int64 exactly when top is.
    fits = (top >= -(1 << (63 - shift))) & (top < (1 << (63 - shift)))
    totals = np.where(fits, (top << shift) + rest, 0)
    wide = {
        int(row): (int(top[row]) << shift) + int(rest[row]) for row in np.flatnonzero(~fits & ~mask)
    }
    return totals, mask, wide


def _final_sum(merged: pa.Table, sums: list[str], column: str) -> pa.Array | pa.ChunkedArray:
    """A sum's output: float64 for floats; the exact sum for integers (see the module doc)."""
    if len(sums) == 1:
        return merged.column(sums[0])
    totals, mask, wide = _exact_totals(merged, sums)
    if len(sums) == len(NARROW_LIMBS):
        if wide:
            raise OverflowError(f"the sum of {column!r} in a group leaves int64")
        return pa.array(totals, pa.int64(), mask=mask)
    if not wide:
        return pc.cast(pa.array(totals, pa.int64(), mask=mask), WIDE_SUM)
    values: list[Decimal | None] = [
        None if null else Decimal(wide.get(row, int(total)))
        for row, (total, null) in enumerate(zip(totals, mask, strict=True))
    ]
    return pa.array(values, WIDE_SUM)


def _final_mean(
    merged: pa.Table, sums: list[str], count: pa.ChunkedArray
) -> pa.Array | pa.ChunkedArray:
    """sum / count in float64, null for a group of no values; an integer sum exact first,
    then rounded to float64 once (a sum past int64 divided exactly, then rounded)."""
    if len(sums) == 1:
        total = merged.column(sums[0])
    else:
        totals, mask, wide = _exact_totals(merged, sums)
        total = pa.array(totals.astype(np.float64), pa.float64(), mask=mask)
    out = pc.if_else(pc.greater(count, 0), pc.divide(total, count), None)
    if len(sums) > 1 and wide:
        means = out.to_pylist()
        counts = count.to_pylist()
        for row, exact in wide.items():
            means[row] = float(Fraction(exact, counts[row]))
        out = pa.array(means, pa.float64())
    return out


def _sums_in_hash_order(
    combined: pa.Table, keys: list[str], aggs: list[tuple[str, str]]
) -> pa.Table | None:
    """``combined.group_by(keys).aggregate(aggs)`` for sums alone (sum, count and mean
    merge by summing) when the keys are nearly all distinct: with the rows in
    :func:`hash_order`, every group is a run of rows that numpy sums at once, and no hash
    table is built. None when the aggregations or key types need the general path (float
    keys: NaN != NaN)."""
    if not keys or combined.num_rows == 0 or any(op != "sum" for _, op in aggs):
        return None
    if any(pa.types.is_floating(combined.schema.field(k).type) for k in keys):
        return None
    carried = combined.column(KEY_HASH) if KEY_HASH in combined.column_names else None
    hashed = None if carried is None or carried.null_count else numbers(carried)
    hashes = _hashes32(combined.select(keys), hashed)
    if _repeats_many(hashes):
        return None  # before the sort, which would only have told the same
    # The partials stay chunks (one per part): combining them would copy every column,
    # texts and all, once more than the filter below, which reads them chunk by chunk.
    key_columns = combined.select(keys)
    order, in_order, same_hash = _sorted_by_hash(hashes)
    if len(same_hash) > (1 - MOSTLY_DISTINCT) * combined.num_rows:
        # Many neighbours sharing a hash mean repeated keys (32-bit collisions are
        # rare): the hash group-by is faster there. The sort is all this judgement costs.
        return None
    order, starts = _group_starts(key_columns, order, in_order, same_hash)
    sizes = np.diff(np.append(starts, combined.num_rows))
    shared = sizes > 1
    # Most keys are alone in their group: such a row is its group, read where it is
    # (a filter, in row order, where a gather in hash order would jump about every
    # text). Only the rows of groups of several are gathered and summed.
    alone = np.zeros(combined.num_rows, dtype=bool)
    alone[order[starts[~shared]]] = True
    lone = pa.array(alone)
    members = order[np.repeat(shared, sizes)]
    member_starts = np.cumsum(sizes[shared]) - sizes[shared]
    firsts = pa.array(members[member_starts])
    columns: dict[str, Any] = {}
    for key in keys:
        column = combined.column(key)
        kept, firsts_of = column.filter(lone), column.take(firsts)
        columns[key] = pa.chunked_array([*kept.chunks, *firsts_of.chunks], type=column.type)
    for source, op in aggs:
        values = combined.column(source).combine_chunks()
        present = np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=np.int64)
        found = numbers(values)
        sums, counted = found[:0], present[:0]
        if members.size:
            sums = np.add.reduceat(found[members], member_starts)
            counted = np.add.reduceat(present[members], member_starts)
        # A group of nulls alone sums to null, as Arrow's sum does.
        columns[f"{source}_{op}"] = pa.chunked_array(
            [values.filter(lone), pa.array(sums, type=values.type, mask=counted == 0)]
        )
    return pa.table(columns)


REPEAT_SAMPLE_SHIFT = 28
"""The repeats of a bucket's keys are judged on the rows whose 32 hash bits are below
2**28: a sixteenth of its keys, with every row of each."""
REPEAT_SAMPLE_MIN_ROWS = 4096


def _repeats_many(hashes: np.ndarray) -> bool:
    """Whether more than 1 - MOSTLY_DISTINCT of the rows share their 32 hash bits with
    another row, judged from the rows whose hashes lie in a sixteenth of the hash space.

    A key's rows all share its hash, so they are all in that sample or all out of it: the
    share of repeats there is the bucket's (a sample of rows would catch few of a key's
    repeats: BMAT's 10,000-song file, whose keys come 2.8 times each in a bucket, looks
    nearly distinct in any 65,536 of its rows). Sorting a sixteenth of the hashes spares a
    bucket whose keys repeat the sort of all of them (0.2 of its 1.1 CPU-seconds), which
    ended in Arrow's hash group-by anyway. Too few sampled rows to judge: False, and the
    whole sort decides."""
    sample = hashes[hashes < np.uint32(1 << REPEAT_SAMPLE_SHIFT)]
    if len(sample) < REPEAT_SAMPLE_MIN_ROWS:
        return False
    sample.sort()
    repeats = np.count_nonzero(sample[1:] == sample[:-1])
    return bool(repeats > (1 - MOSTLY_DISTINCT) * len(sample))


def hash_order(keys: pa.Table, hashed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """An order of the rows in which equal keys are adjacent, and where each group of
    equal keys starts in it (``hashed``: any hash of the rows' keys, equal for equal
    keys, when one is at hand; else :func:`key_hash`).

    The rows are ordered by 32 bits of a hash of their keys (the high half of a 64-bit
    one, or the 32 that partials carry), which numpy sorts in a fraction of the time
    Arrow takes to sort texts; only neighbours with the same hash need their keys
    compared. Rows whose keys share a hash but differ (the text hash reads a text's
    length and four of its 8-byte words only; 32 bits collide by chance) are sorted by
    the keys themselves, within their hash."""
    keys = keys.combine_chunks()
    return _group_starts(keys, *_sorted_by_hash(_hashes32(keys, hashed)))


def _high_bits(hashed: np.ndarray) -> np.ndarray:
    """The high 32 bits of 64-bit hashes (what partials carry)."""
    return (hashed >> np.uint64(32)).astype(np.uint32)


def _hashes32(keys: pa.Table, hashed: np.ndarray | None) -> np.ndarray:
    """32 bits of a hash of each row's keys: ``hashed`` when given (its high half when
    it has 64 bits), else those of :func:`key_hash`."""
    if hashed is None:
        hashed = key_hash(keys.columns)
    return _high_bits(hashed) if hashed.dtype.itemsize > 4 else hashed


def _sorted_by_hash(hashed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The order that sorts ``hashed``, the hashes in it, and the positions in it whose
    next neighbour shares their hash."""
    order = argsort_hashes(hashed)
    in_order = hashed[order]
    return order, in_order, np.flatnonzero(in_order[1:] == in_order[:-1])


def _group_starts(
    keys: pa.Table, order: np.ndarray, in_order: np.ndarray, same_hash: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`hash_order`'s answer from the rows sorted by hash: neighbours whose keys
    share a hash but differ are sorted by their keys."""
    keys_differ = _differ(keys, order[same_hash], order[same_hash + 1])
    collided = same_hash[keys_differ]
    if collided.size:
        run = np.cumsum(np.concatenate([[True], in_order[1:] != in_order[:-1]]))
        positions = np.flatnonzero(np.isin(run, run[collided + 1]))
        tied = keys.take(order[positions])
        for index, name in enumerate(tied.column_names):  # Arrow sorts no dictionaries
            tied = tied.set_column(index, name, _decode(tied.column(index)))
        tied = tied.append_column("__run", pa.array(run[positions]))
        by = [("__run", "ascending")] + [(name, "ascending") for name in keys.column_names]
        order[positions] = order[positions][np.asarray(pc.sort_indices(tied, sort_keys=by))]
        keys_differ = _differ(keys, order[same_hash], order[same_hash + 1])
    differs = np.ones(max(keys.num_rows - 1, 0), dtype=bool)
    differs[same_hash] = keys_differ
    starts = np.concatenate([[0], np.flatnonzero(differs) + 1]).astype(np.int64)
    return order, starts


def argsort_hashes(hashed: np.ndarray) -> np.ndarray:
    """An order that sorts ``hashed`` (unsigned, of 32 bits or fewer; ties in row order).

    Each hash and its row number make one 64-bit word, which numpy sorts with its
    vectorised quicksort; the low half of each sorted word is then the order. A sixth
    of the time of any argsort (0.06 against 0.29 s, stable or not, and 0.18 s for two
    16-bit radix passes, for a reducer's 1.9M rows); the words are unique, so ties keep
    their row order."""
    if hashed.dtype.itemsize > 4:
        raise ValueError(f"argsort_hashes sorts hashes of at most 32 bits, not {hashed.dtype}")
    if len(hashed) > 2**32:
        return np.argsort(hashed, kind="stable")
    words = hashed.astype(np.uint64) << np.uint64(32)
    words |= np.arange(len(hashed), dtype=np.uint64)
    words.sort()
    return (words & np.uint64(0xFFFFFFFF)).astype(np.int64)


def _differ(keys: pa.Table, rows: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Whether the keys of each of ``rows`` differ from those of its partner in ``others``
    (null equals null: null keys are one group)."""
    differs = np.zeros(len(rows), dtype=bool)
    if not len(rows):
        return differs
    for column in keys.columns:
        one, other = column.take(pa.array(rows)), column.take(pa.array(others))
        unequal = pc.or_(
            pc.fill_null(pc.not_equal(one, other), False),
            pc.xor(one.is_null(), other.is_null()),
        )
        differs |= np.asarray(unequal.to_numpy(zero_copy_only=False), dtype=bool)
    return differs
