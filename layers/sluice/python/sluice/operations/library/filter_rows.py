"""Filter rows: a new dataset of the rows that pass every predicate (the tasks' grammar)."""

from __future__ import annotations

from typing import ClassVar

from sluice.operations.base import Finished, Operation, OperationRun, PartRef, StepResult
from sluice.operations.storage import read_part, write_part
from sluice.operations.wizard import InputType, WizardInput
from sluice.tasks.aggregate import Predicate, filter_rows


class FilterRows(Operation):
    name = "filter_rows"
    description = (
        "A new dataset of the rows that pass every predicate ({column, op, value}; op one of "
        "==, !=, <, <=, >, >=, in, not_in, is_null, not_null), in their order, every column kept."
    )
    category = "table"
    output = "dataset"
    inputs: ClassVar[dict[str, WizardInput]] = {
        "dataset": WizardInput(
            name="Dataset", description="The dataset to filter.", type=InputType.DATASET
        ),
        "filter": WizardInput(
            name="Filter",
            description="Predicates a row must all pass (comparing with null is false, as in SQL).",
            type=InputType.FILTER,
            of="dataset",
            minimum=1,
            ordered=False,
        ),
    }

    def run_part(self, run: OperationRun, part: PartRef, buckets: int) -> StepResult:
        """The part's passing rows, every column (and the raw texts of failed values) kept."""
        predicates = [Predicate.model_validate(p) for p in run.inputs["filter"]]
        table = filter_rows(read_part(part.key), predicates)
        return StepResult(
            index=part.index, written=[write_part(part.index, run.output.part(part.index), table)]
        )

    def finish(
        self, run: OperationRun, parts: list[StepResult], buckets: list[StepResult]
    ) -> Finished:
        return Finished(parts=[w for p in sorted(parts, key=lambda p: p.index) for w in p.written])
