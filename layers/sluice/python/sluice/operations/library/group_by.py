"""Group-by aggregate: the tasks' engine (partial aggregates per part, hash-partitioned
into buckets, merged per bucket), its result a new dataset rather than CSV files."""

from __future__ import annotations

from typing import Any, ClassVar

import pyarrow as pa

from sluice.config import settings
from sluice.datasets.manifest import Manifest
from sluice.inference.types import ColumnType
from sluice.operations.base import Finished, Operation, OperationRun, PartRef, StepResult
from sluice.operations.storage import read_arrows, read_part, write_arrow, write_part
from sluice.operations.wizard import InputType, WizardInput
from sluice.store import objects
from sluice.tasks.aggregate import (
    AggregateSpec,
    bucket_count,
    merge_partials,
    needed_columns,
    partial_aggregate,
    validate_spec,
)


def _spec(inputs: dict[str, Any]) -> AggregateSpec:
    return AggregateSpec(
        group_by=inputs["group_by"] or [],
        aggregations=inputs["aggregations"],
        filter=inputs["filter"] or [],
    )


def _as_dataset_types(table: pa.Table) -> pa.Table:
    """The merged columns in types a dataset has: an int64 column's exact sum (a
    decimal128(38, 0), as DuckDB's HUGEINT) as int64, refused past int64's range rather
    than wrapped or rounded."""
    for index, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            try:
                column = table.column(index).cast(pa.int64())
            except pa.ArrowInvalid as exc:
                raise ValueError(f"the sum {field.name!r} is past int64's range") from exc
            table = table.set_column(index, field.name, column)
    return table


class GroupByAggregate(Operation):
    name = "group_by_aggregate"
    description = (
        "Group rows by columns and aggregate others (sum, count, mean, min, max, "
        "count_distinct; count of '*' counts rows), optionally filtered first: a new dataset "
        "of one row per group, in no set order."
    )
    category = "table"
    output = "dataset"
    inputs: ClassVar[dict[str, WizardInput]] = {
        "dataset": WizardInput(
            name="Dataset", description="The dataset to aggregate.", type=InputType.DATASET
        ),
        "group_by": WizardInput(
            name="Group by",
            description="The key columns (none: one group of every row).",
            type=InputType.COLUMNS,
            of="dataset",
            required=False,
            default=[],
        ),
        "aggregations": WizardInput(
            name="Aggregations",
            description="Output columns: {column, op, name?}.",
            type=InputType.AGGREGATIONS,
            of="dataset",
            minimum=1,
        ),
        "filter": WizardInput(
            name="Filter",
            description="Predicates a row must pass to count (none: every row).",
            type=InputType.FILTER,
            of="dataset",
            required=False,
            default=[],
            ordered=False,
        ),
    }

    def check(self, inputs: dict[str, Any], schemas: dict[str, dict[str, ColumnType]]) -> list[str]:
        """The tasks' checks of the aggregations (the filter is checked as every filter)."""
        problems = validate_spec(_spec(inputs), schemas["dataset"])
        return [p for p in problems if not p.startswith(("filter[", "group_by["))]

    def bucket_count(self, run: OperationRun, manifests: dict[str, list[Manifest]]) -> int:
        """As a task's: one bucket per 48 MiB of typed data or 2M rows."""
        manifest = manifests["dataset"][0]
        typed_bytes = sum(p.bytes for p in manifest.parts)
        return bucket_count(manifest.row_count, typed_bytes, settings().workers)

    def _bucket_prefix(self, run: OperationRun, bucket: int) -> str:
        return run.partial_key(f"shuffle/b{bucket:04d}/")

    def run_part(self, run: OperationRun, part: PartRef, buckets: int) -> StepResult:
        """The part's partial aggregates, one Arrow file per bucket it has groups in (and
        always bucket 0's, which carries the schema of an empty result)."""
        spec = _spec(run.inputs)
        table = read_part(part.key, needed_columns(spec))
        partials = partial_aggregate(table, spec, buckets)
        written = [(b, rows) for b, rows in enumerate(partials) if rows.num_rows or b == 0]

        def put(item: tuple[int, pa.Table]) -> None:
            bucket, rows = item
            write_arrow(f"{self._bucket_prefix(run, bucket)}p{part.index:06d}.arrow", rows)

        objects.concurrently(put, written, 8)
        return StepResult(index=part.index)

    def run_bucket(self, run: OperationRun, bucket: int, parts: int) -> StepResult:
        """The bucket's groups merged and finalised, as one output part (none when the
        bucket is empty, but for bucket 0)."""
        keys = objects.list_keys(settings().data_bucket, self._bucket_prefix(run, bucket))
        if not keys:
            return StepResult(index=bucket)
        merged = _as_dataset_types(merge_partials(read_arrows(keys), _spec(run.inputs)))
        if merged.num_rows == 0 and bucket != 0:
            return StepResult(index=bucket)
        return StepResult(
            index=bucket, written=[write_part(bucket, run.output.part(bucket), merged)]
        )

    def finish(
        self, run: OperationRun, parts: list[StepResult], buckets: list[StepResult]
    ) -> Finished:
        ordered = [w for b in sorted(buckets, key=lambda b: b.index) for w in b.written]
        return Finished(parts=ordered)
