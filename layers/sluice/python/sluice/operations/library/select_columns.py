"""Select columns: a new dataset of some of a dataset's columns, in the order given."""

from __future__ import annotations

from typing import ClassVar

from sluice.operations.base import Finished, Operation, OperationRun, PartRef, StepResult
from sluice.operations.storage import read_part, write_part
from sluice.operations.wizard import InputType, WizardInput


class SelectColumns(Operation):
    name = "select_columns"
    description = "A new dataset holding the chosen columns of a dataset, in the order given."
    category = "table"
    output = "dataset"
    parts_at_once = 2  # a part's few columns: its requests overlap the other's work
    inputs: ClassVar[dict[str, WizardInput]] = {
        "dataset": WizardInput(
            name="Dataset", description="The dataset to take columns from.", type=InputType.DATASET
        ),
        "columns": WizardInput(
            name="Columns",
            description="The columns to keep, in the output's order.",
            type=InputType.COLUMNS,
            of="dataset",
            minimum=1,
        ),
    }

    def run_part(self, run: OperationRun, part: PartRef, buckets: int) -> StepResult:
        """The part's chosen columns (only their column chunks are read), as an output part.
        Values that failed their type stay null; their raw texts are not carried."""
        table = read_part(part.key, run.inputs["columns"], part.bytes)
        return StepResult(
            index=part.index, written=[write_part(part.index, run.output.part(part.index), table)]
        )

    def finish(
        self, run: OperationRun, parts: list[StepResult], buckets: list[StepResult]
    ) -> Finished:
        return Finished(parts=[w for p in sorted(parts, key=lambda p: p.index) for w in p.written])
