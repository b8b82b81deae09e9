"""Group-by aggregate: the tasks' engine (partial aggregates per part, hash-partitioned
into buckets, merged per bucket), its result a new dataset rather than CSV files."""

from __future__ import annotations

from typing import Any, ClassVar

from sluice.config import settings
from sluice.datasets.manifest import Manifest
from sluice.inference.types import ColumnType
from sluice.operations.base import Finished, Operation, OperationRun, PartRef, StepResult
from sluice.operations.storage import read_part, read_shuffle, write_part, write_shuffle
from sluice.operations.wizard import InputType, WizardInput
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


class GroupByAggregate(Operation):
    name = "group_by_aggregate"
    description = (
        "Group rows by columns and aggregate others (sum, count, mean, min, max, "
        "count_distinct; count of '*' counts rows), optionally filtered first: a new dataset "
        "of one row per group, in no set order. The sum of an int64 column is exact, a "
        "decimal (38 digits)."
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

    def _shuffle_key(self, run: OperationRun, part: int) -> str:
        return run.partial_key(f"shuffle/p{part:06d}.buckets")

    def run_part(self, run: OperationRun, part: PartRef, buckets: int) -> StepResult:
        """The part's partial aggregates of every bucket in one shuffle object (bucket 0's
        always, even empty: it carries the schema of an empty result)."""
        spec = _spec(run.inputs)
        table = read_part(part.key, needed_columns(spec))
        partials = partial_aggregate(table, spec, buckets)
        write_shuffle(
            self._shuffle_key(run, part.index),
            [rows if rows.num_rows or b == 0 else None for b, rows in enumerate(partials)],
        )
        return StepResult(index=part.index)

    def run_bucket(self, run: OperationRun, bucket: int, parts: int) -> StepResult:
        """The bucket's groups merged and finalised, as one output part (none when the
        bucket is empty, but for bucket 0)."""
        keys = [self._shuffle_key(run, index) for index in range(parts)]
        tables = read_shuffle(keys, bucket)
        if not tables:
            return StepResult(index=bucket)
        # An int64 column's sum is exact, as the tasks': a decimal column (decimal128(38,
        # 0), as DuckDB's HUGEINT), whatever its values, so that every bucket's part has
        # the same type; never wrapped, never rounded.
        merged = merge_partials(tables, _spec(run.inputs))
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
