"""Describe: statistics per column, as JSON a chart or a table draws directly."""

from __future__ import annotations

from functools import reduce
from typing import ClassVar

from sluice.datasets.rows import EXCEPTIONS
from sluice.inference.types import ColumnType
from sluice.operations.base import Finished, Operation, OperationRun, PartRef, StepResult
from sluice.operations.describe_stats import merge, part_stats, summary
from sluice.operations.storage import get_jsons, put_json, read_part
from sluice.operations.wizard import InputType, WizardInput
from sluice.tasks.aggregate import schema_types


class Describe(Operation):
    name = "describe"
    description = (
        "Per column: count, nulls; min and max (numbers, dates, durations, texts); mean and "
        "standard deviation (numbers); the most frequent values with their counts "
        "(categories, booleans)."
    )
    category = "statistics"
    output = "data"
    inputs: ClassVar[dict[str, WizardInput]] = {
        "dataset": WizardInput(
            name="Dataset", description="The dataset to describe.", type=InputType.DATASET
        ),
        "columns": WizardInput(
            name="Columns",
            description="The columns to describe (none: all), in the dataset's order.",
            type=InputType.COLUMNS,
            of="dataset",
            required=False,
            default=[],
            ordered=False,
        ),
        "top": WizardInput(
            name="Top values",
            description="How many of a category's most frequent values to list.",
            type=InputType.INT,
            required=False,
            default=10,
            minimum=1,
            maximum=1000,
        ),
    }

    def run_part(self, run: OperationRun, part: PartRef, buckets: int) -> StepResult:
        """The part's statistics of each column, as a JSON partial."""
        table = read_part(part.key, run.inputs["columns"] or None)
        types = schema_types(table.schema)
        stats = {
            name: {"type": types[name].value, **part_stats(table.column(name), types[name])}
            for name in table.column_names
            if name != EXCEPTIONS and name in types
        }
        key = run.partial_key(f"describe/p{part.index:06d}.json")
        put_json(key, {"rows": table.num_rows, "columns": stats})
        return StepResult(index=part.index, partial=key)

    def finish(
        self, run: OperationRun, parts: list[StepResult], buckets: list[StepResult]
    ) -> Finished:
        ordered = sorted(parts, key=lambda p: p.index)
        partials = get_jsons([p.partial for p in ordered if p.partial])
        rows = sum(p["rows"] for p in partials)
        names = list(partials[0]["columns"]) if partials else []
        columns = []
        for name in names:
            kind = partials[0]["columns"][name]["type"]
            merged = reduce(merge, (p["columns"][name] for p in partials))
            columns.append(summary(name, ColumnType(kind), merged, run.inputs["top"]))
        return Finished(data={"rows": rows, "columns": columns})
