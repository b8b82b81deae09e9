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
  :func:`~sluice.tasks.aggregate_shuffle.shuffled_keys`), then for aggregation ``i``:
  ``__agg{i}_sum`` (sum, mean of floats: float64), or for integers and booleans one
  exact column where no sum of the part can leave int64 (``__agg{i}_sum_int``, or
  ``_bigint`` for int64), else exact limbs (``__agg{i}_sum_hi``, ``_mid``, ``_lo``; see
  :mod:`sluice.tasks.aggregate_sums`),
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

The parts, a file each: the filter (``aggregate_filter``), the spec and its checks
(``aggregate_spec``), exact integer sums (``aggregate_sums``), how a part's groups travel
to the buckets (``aggregate_shuffle``), nearly distinct keys passed through and merged in
hash order (``aggregate_distinct``), and the buckets, key hashes and output files
(``aggregate_output``).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from sluice.tasks.aggregate_distinct import (
    high_bits,
    mostly_distinct,
    rows_as_groups,
    sums_in_hash_order,
)
from sluice.tasks.aggregate_filter import decode, filter_rows
from sluice.tasks.aggregate_output import (
    bucket_count,
    key_hash,
    write_outputs,
)
from sluice.tasks.aggregate_shuffle import DISTINCT_SAMPLE_ROWS, KEY_HASH, shuffled_keys, split
from sluice.tasks.aggregate_spec import (
    AggOp,
    AggregateSpec,
    Aggregation,
    Predicate,
    bmat_preset,
    needed_columns,
    schema_types,
    validate_filter,
    validate_spec,
)
from sluice.tasks.aggregate_sums import (
    NARROW_LIMBS,
    WIDE_LIMBS,
    final_mean,
    final_sum,
    group_limbs,
    one_column_form,
    row_sum_sources,
    same_sum_forms,
    sum_columns,
    sum_family,
    sum_limbs,
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
    "schema_types",
    "validate_filter",
    "validate_spec",
    "write_outputs",
]


def _partial_fields(
    spec: AggregateSpec,
    types: dict[str, pa.DataType],
    key_types: dict[str, pa.DataType],
    one_column: dict[str, pa.Field],
) -> list[pa.Field]:
    fields = [pa.field(key, key_types[key]) for key in spec.group_by]
    for i, agg in enumerate(spec.aggregations):
        p = f"__agg{i}"
        if p in one_column:
            fields.append(one_column[p])
        elif agg.op in (AggOp.SUM, AggOp.MEAN):
            limbs = sum_limbs(types[agg.column])
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


def partial_aggregate(table: pa.Table, spec: AggregateSpec, buckets: int) -> list[pa.Table]:
    """Filter and group one part; return ``buckets`` partial tables (see the module doc)."""
    if buckets < 1:
        raise ValueError(f"buckets must be at least 1, not {buckets}")
    problems = validate_spec(spec, schema_types(table.schema))
    if problems:
        raise ValueError("invalid aggregate spec: " + "; ".join(problems))
    names = needed_columns(spec)
    # The filter reads decoded values; the rows that pass keep their categories (and
    # texts read as dictionaries) encoded, for the keys (below); only the aggregated
    # columns are decoded (a part's 1.2M titles decoded, unused, took 20 ms).
    raw = filter_rows(table.select(names), list(spec.filter))
    data = raw
    aggregated = {agg.column for agg in spec.aggregations}
    for index, name in enumerate(names):
        if name in aggregated:
            data = data.set_column(index, name, decode(data.column(name)))
    types = {name: data.schema.field(name).type for name in names}

    keys = list(spec.group_by)
    work = shuffled_keys(raw.select(keys), buckets)
    ungrouped = bool(keys) and mostly_distinct(work.slice(0, DISTINCT_SAMPLE_ROWS), keys)
    one_column = _one_column_sums(spec, data, ungrouped)
    key_types = {k: work.schema.field(k).type for k in keys}
    schema = pa.schema(_partial_fields(spec, types, key_types, one_column))
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
        if p in one_column:  # summed exactly in one column (aggregate_sums)
            sources[one_column[p].name] = f"{p}_sum"
        elif agg.op in (AggOp.SUM, AggOp.MEAN):
            limbs = sum_limbs(column.type)
            if not limbs:
                column = pc.cast(column, pa.float64())  # float sums add in float64
            else:  # summed exactly, as limbs (see the module doc)
                ops = [op for op in ops if op != "sum"]
                exact[p] = []
                for name, values in row_sum_sources(column, p, limbs).items():
                    work = work.append_column(name, values)
                    aggs.append((name, "sum"))
                    exact[p].append(f"{name}_sum")
        if agg.op in (AggOp.MIN, AggOp.MAX) and pa.types.is_duration(column.type):
            column = pc.cast(column, pa.int64())  # Arrow has no min/max kernel for durations
        work = work.append_column(p, column)
        for op in ops:
            aggs.append((p, op))
            sources[f"{p}_{op}"] = f"{p}_{op}"
    if ungrouped:
        grouped = rows_as_groups(work, keys, aggs)
    else:
        grouped = work.group_by(keys, use_threads=True).aggregate(aggs)
    for p, sums in exact.items():
        limbs = WIDE_LIMBS if len(sums) == len(WIDE_LIMBS) else NARROW_LIMBS
        columns = [grouped.column(name) for name in sums]
        for limb, values in zip(limbs, group_limbs(columns, len(limbs)), strict=True):
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
    high = pa.array(high_bits(hashed))
    partial = partial.set_column(partial.schema.get_field_index(KEY_HASH), KEY_HASH, high)
    return split(partial, hashed, buckets)


def _one_column_sums(spec: AggregateSpec, data: pa.Table, ungrouped: bool) -> dict[str, pa.Field]:
    """The integer sums a part carries in one exact column (aggregate_sums), by partial
    prefix: as the values themselves, in their own type, where its rows pass ungrouped
    (a boolean as int8), else as int64 sums."""
    fields = {}
    for i, agg in enumerate(spec.aggregations):
        if agg.op not in (AggOp.SUM, AggOp.MEAN) or agg.column == "*":
            continue
        column = data.column(agg.column)
        if not sum_limbs(column.type):
            continue  # a float sum: one float64 already
        form = one_column_form(column, data.num_rows)
        if form is None:
            continue
        kind = column.type if pa.types.is_integer(column.type) else pa.int8()
        fields[f"__agg{i}"] = pa.field(f"__agg{i}_sum_{form}", kind if ungrouped else pa.int64())
    return fields


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


# --- merge (reduce) side ----------------------------------------------------------------


def merge_partials(partials: list[pa.Table], spec: AggregateSpec) -> pa.Table:
    """One bucket's partials from every part, merged and finalised: the group_by columns,
    then one column per aggregation named ``output_name``, one row per group in no set
    order (a bucket is one of many files anyway: sorting would cost, not give, an order)."""
    if not partials:
        raise ValueError("merge_partials needs at least one partial table")
    _same_sum_kinds(partials, spec)
    for i, agg in enumerate(spec.aggregations):
        if agg.op in (AggOp.SUM, AggOp.MEAN):
            partials = same_sum_forms(partials, f"__agg{i}")
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
            for name in sum_columns(combined.column_names, p):
                aggs.append((name, "sum"))
        if agg.op in (AggOp.COUNT, AggOp.MEAN):
            aggs.append((f"{p}_count", "sum"))
        if agg.op in (AggOp.MIN, AggOp.MAX):
            aggs.append((f"{p}_{agg.op}", str(agg.op)))
        if agg.op is AggOp.COUNT_DISTINCT:
            aggs.append((f"{p}_distinct", "count_distinct"))
    merged = sums_in_hash_order(combined, keys, aggs)
    if merged is None:
        merged = combined.group_by(keys, use_threads=True).aggregate(aggs)
    if not keys and combined.num_rows == 0:
        merged = merged.slice(0, 0)  # the single group lives in another bucket

    columns: dict[str, pa.ChunkedArray] = {key: decode(merged.column(key)) for key in keys}
    for i, agg in enumerate(spec.aggregations):
        p = f"__agg{i}"
        sums = [f"{name}_sum" for name in sum_columns(combined.column_names, p)]
        if agg.op is AggOp.SUM:
            out = final_sum(merged, sums, agg.column)
        elif agg.op is AggOp.COUNT:
            out = merged.column(f"{p}_count_sum").fill_null(0)
        elif agg.op is AggOp.MEAN:
            out = final_mean(merged, sums, merged.column(f"{p}_count_sum"))
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
    dictionary and others as values (see :func:`shuffled_keys`), all as values."""
    for key in keys:
        if len({t.schema.field(key).type for t in partials}) > 1:
            partials = [
                t.set_column(t.schema.get_field_index(key), key, decode(t.column(key)))
                for t in partials
            ]
    return partials


def _same_sum_kinds(partials: list[pa.Table], spec: AggregateSpec) -> None:
    """Refuse partials that carry sums of different kinds of one column (a float64 from
    one part, integer limbs from another; an int64's from one, an int16's from another):
    their columns would merge as nulls or as the wrong type, a wrong answer. The parts of
    one typed dataset share its types, so this is a part left of another type. (One
    integer sum sent as one column by a part and as limbs by another is one kind.)"""
    for i, agg in enumerate(spec.aggregations):
        if agg.op not in (AggOp.SUM, AggOp.MEAN):
            continue
        kinds = {sum_family(t.column_names, f"__agg{i}") for t in partials}
        if len(kinds) > 1:
            raise ValueError(
                f"the parts disagree on the type of column {agg.column!r}: "
                "they cannot be summed together"
            )
