"""Stack: the rows of several datasets one after another, as one new dataset.

Columns are matched by name (the first dataset's order, then columns the others add; a
column a dataset lacks is null in its rows). A column whose type differs between the
datasets takes the first type of the inference's preference order (narrowest first) that
holds every one of them losslessly within its kind: a wider integer, a float, a text for a
category. Kinds do not mix (a number and a time, a flag and a number, a number and a
text): stacking them is refused, naming the column, rather than turning them into texts.
Each typed part becomes an output part, cast to the unified types, in the inputs' order.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pyarrow as pa

from sluice.datasets.rows import load_manifest
from sluice.inference.types import ColumnType, arrow_type
from sluice.operations.base import Finished, Operation, OperationRun, PartRef, StepResult
from sluice.operations.column_types import unified
from sluice.operations.storage import read_part, write_part
from sluice.operations.wizard import InputType, WizardInput


def unify(schemas: list[dict[str, ColumnType]]) -> tuple[dict[str, ColumnType], list[str]]:
    """The stacked columns and their types, and a problem for each column that does not
    stack (``"datasets[i]: ..."``, i the first dataset that conflicts)."""
    seen: dict[str, list[ColumnType]] = {}
    problems: list[str] = []
    for index, schema in enumerate(schemas):
        for name, kind in schema.items():
            types = seen.setdefault(name, [])
            before = unified(types) if types else None
            if before is not None and unified([*types, kind]) is None:
                problems.append(
                    f"datasets[{index}]: column {name!r} is {kind.value} there and "
                    f"{before.value} before: they do not stack"
                )
            types.append(kind)
    columns = {name: unified(types) for name, types in seen.items()}
    return {n: t for n, t in columns.items() if t is not None}, problems


def conform(table: pa.Table, columns: dict[str, ColumnType]) -> pa.Table:
    """``table`` with exactly ``columns``, in their order and types (absent ones null)."""
    arrays = []
    for name, kind in columns.items():
        target = arrow_type(kind)
        if name not in table.column_names:
            arrays.append(pa.nulls(table.num_rows, target))
            continue
        column = table.column(name)
        # Unsafe only for int64 -> float64 past 2**53, which rounds as pandas does.
        arrays.append(column if column.type == target else column.cast(target, safe=False))
    return pa.table(arrays, names=list(columns))


class Stack(Operation):
    name = "stack"
    description = (
        "A new dataset of the rows of several datasets, one after another, columns matched "
        "by name (null where a dataset lacks one); a column's types unified to the narrowest "
        "that holds them (a wider integer, a float, a text for categories)."
    )
    category = "table"
    output = "dataset"
    inputs: ClassVar[dict[str, WizardInput]] = {
        "datasets": WizardInput(
            name="Datasets",
            description="The datasets to stack, in the output's order.",
            type=InputType.DATASETS,
            minimum=2,
            maximum=100,
        ),
    }

    def check(self, inputs: dict[str, Any], schemas: dict[str, dict[str, ColumnType]]) -> list[str]:
        count = len(inputs["datasets"])
        return unify([schemas[f"datasets[{i}]"] for i in range(count)])[1]

    def _columns(self, run: OperationRun) -> dict[str, ColumnType]:
        manifests = [load_manifest(run.owner, d.id, d.run) for d in run.datasets["datasets"]]
        schemas = [{c.name: c.effective_type for c in m.columns} for m in manifests]
        columns, problems = unify(schemas)
        if problems:  # checked when asked; a replaced dataset may have changed since
            raise ValueError("; ".join(problems))
        return columns

    def run_part(self, run: OperationRun, part: PartRef, buckets: int) -> StepResult:
        """The part in the stacked columns' types, as the output part of the same index
        (the parts are numbered in the inputs' order). Failed values' raw texts are not
        carried."""
        table = conform(read_part(part.key), self._columns(run))
        return StepResult(
            index=part.index, written=[write_part(part.index, run.output.part(part.index), table)]
        )

    def finish(
        self, run: OperationRun, parts: list[StepResult], buckets: list[StepResult]
    ) -> Finished:
        return Finished(parts=[w for p in sorted(parts, key=lambda p: p.index) for w in p.written])
