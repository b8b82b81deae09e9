"""Filter rows: a new dataset of the rows that pass every predicate (the tasks' grammar),
of every column or of the columns chosen (a filter and a select in one pass)."""

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
        "==, !=, <, <=, >, >=, in, not_in, is_null, not_null), in their order; every column, or "
        "the columns chosen in the order given."
    )
    category = "table"
    output = "dataset"
    parts_at_once = 2  # a part's few columns: its requests overlap the other's work
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
        "columns": WizardInput(
            name="Columns",
            description="The columns to keep, in the output's order (none: every column).",
            type=InputType.COLUMNS,
            of="dataset",
            required=False,
            default=[],
        ),
    }

    def run_part(self, run: OperationRun, part: PartRef, buckets: int) -> StepResult:
        """The part's passing rows: every column (and the raw texts of failed values), or
        only the chosen ones (then only they and the filter's are read, as select_columns
        reads, and no raw texts are carried)."""
        predicates = [Predicate.model_validate(p) for p in run.inputs["filter"]]
        chosen: list[str] = run.inputs["columns"]
        if not chosen:
            table = filter_rows(read_part(part.key, size=part.bytes), predicates)
        else:
            needed = list(dict.fromkeys([*chosen, *(p.column for p in predicates)]))
            table = filter_rows(read_part(part.key, needed, part.bytes), predicates).select(chosen)
        return StepResult(
            index=part.index, written=[write_part(part.index, run.output.part(part.index), table)]
        )

    def finish(
        self, run: OperationRun, parts: list[StepResult], buckets: list[StepResult]
    ) -> Finished:
        return Finished(parts=[w for p in sorted(parts, key=lambda p: p.index) for w in p.written])
