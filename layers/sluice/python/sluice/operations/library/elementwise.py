"""Median and mean across several datasets of one shape, element by element: the output's
row i, column c is the statistic of row i, column c over the datasets (the original's
Median of images, for tables).

The first dataset's parts set the work: each of its parts reads the same rows of every
other dataset (only the parts that overlap them, by the manifests' row offsets), so the
datasets need the same row count but not the same part boundaries. The other datasets'
part steps have nothing to do. Number columns get the statistic (float64; nulls and NaN
left out, null where every dataset's value is missing); other columns are the first
dataset's, as the original kept the first image's header.
"""

from __future__ import annotations

import warnings
from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from sluice.datasets.manifest import Manifest
from sluice.datasets.rows import load_manifest
from sluice.inference.types import ColumnType
from sluice.operations.base import Finished, Operation, OperationRun, PartRef, StepResult
from sluice.operations.describe_stats import NUMERIC, as_floats, int_words
from sluice.operations.storage import read_part, write_part
from sluice.operations.wizard import InputType, WizardInput


def shape_problems(schemas: list[dict[str, ColumnType]]) -> list[str]:
    """Each way a dataset's columns differ from the first's (``"datasets[i]: ..."``)."""
    first, problems = schemas[0], []
    for index, schema in enumerate(schemas[1:], start=1):
        where = f"datasets[{index}]"
        for name in [n for n in first if n not in schema]:
            problems.append(f"{where}: no column {name!r}, which datasets[0] has")
        for name in [n for n in schema if n not in first]:
            problems.append(f"{where}: a column {name!r}, which datasets[0] has not")
        for name in [n for n in first if n in schema]:
            if (first[name] in NUMERIC) != (schema[name] in NUMERIC):
                problems.append(
                    f"{where}: column {name!r} is {schema[name].value} there and "
                    f"{first[name].value} in datasets[0]"
                )
    return problems


def rows_of(manifest: Manifest, start: int, stop: int, columns: list[str]) -> pa.Table:
    """Rows [start, stop) of a dataset's ``columns``, from the parts that hold them."""
    pieces = []
    for part in manifest.parts:
        low, high = max(start, part.first_row), min(stop, part.first_row + part.rows)
        if low < high:
            table = read_part(part.key, columns)
            pieces.append(table.slice(low - part.first_row, high - low))
    return pa.concat_tables(pieces) if pieces else pa.table({c: [] for c in columns})


def exact_int_means(columns: list[pa.ChunkedArray]) -> np.ndarray:
    """The mean of each row over integer ``columns`` (nulls left out, NaN where all are),
    from the exact sum rounded to float64 once and then divided, as DuckDB's avg of
    integers: each int64 is split into its high and low 32 bits, whose sums over at most
    a few hundred columns fit int64; ``high * 2**32`` is exact in float64, so adding the
    low sum rounds the exact total once. (Summing float64s would round every value near
    2**63 by up to 1024 first: a mean of 9.2e18 and -9.2e18 off by thousands.)"""
    high = np.zeros(len(columns[0]), dtype=np.int64)
    low = np.zeros(len(columns[0]), dtype=np.int64)
    count = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        column_high, column_low, present = int_words(column)
        high += column_high
        low += column_low
        count += present
    total = high.astype(np.float64) * 2.0**32 + low.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


class ElementWise(Operation):
    """Median and Mean share everything but the statistic (an abstract base, which the
    catalogue skips)."""

    category = "table"
    output = "dataset"
    inputs: ClassVar[dict[str, WizardInput]] = {
        "datasets": WizardInput(
            name="Datasets",
            description="Datasets of the same columns and row count.",
            type=InputType.DATASETS,
            minimum=2,
            maximum=100,  # ordered: the other columns are the first's
        ),
    }

    @abstractmethod
    def combine(self, stacked: np.ndarray) -> np.ndarray:
        """The statistic over axis 0 of (datasets x rows), NaN where none has a value."""

    def combine_integers(self, columns: list[pa.ChunkedArray]) -> np.ndarray:
        """The statistic of integer columns (by default over their float64 values)."""
        return self.combine(np.vstack([as_floats(c) for c in columns]))

    def check(self, inputs: dict[str, Any], schemas: dict[str, dict[str, ColumnType]]) -> list[str]:
        return shape_problems([schemas[f"datasets[{i}]"] for i in range(len(inputs["datasets"]))])

    def check_rows(self, inputs: dict[str, Any], rows: dict[str, int]) -> list[str]:
        first = rows["datasets[0]"]
        return [
            f"datasets[{i}]: {rows[f'datasets[{i}]']} rows, datasets[0] has {first}"
            for i in range(1, len(inputs["datasets"]))
            if rows[f"datasets[{i}]"] != first
        ]

    def run_part(self, run: OperationRun, part: PartRef, buckets: int) -> StepResult:
        """For a part of the first dataset: its rows combined with the same rows of the
        others, as the output part of its index. Nothing for the others' parts."""
        if part.dataset != 0:
            return StepResult(index=part.index)
        manifests = [load_manifest(run.owner, d.id, d.run) for d in run.datasets["datasets"]]
        types = {c.name: c.effective_type for c in manifests[0].columns}
        numbers = [n for n, t in types.items() if t in NUMERIC]
        first = read_part(part.key, list(types))
        start = next(p.first_row for p in manifests[0].parts if p.key == part.key)
        others = [rows_of(m, start, start + first.num_rows, numbers) for m in manifests[1:]]
        for name in numbers:
            columns = [t.column(name) for t in [first, *others]]
            with warnings.catch_warnings():  # a row every dataset misses is null, not a warning
                warnings.simplefilter("ignore", RuntimeWarning)
                if all(pa.types.is_integer(c.type) for c in columns):
                    combined = self.combine_integers(columns)
                else:
                    combined = self.combine(np.vstack([as_floats(c) for c in columns]))
            values = pa.array(combined, pa.float64(), mask=np.isnan(combined))
            first = first.set_column(first.schema.get_field_index(name), name, values)
        return StepResult(
            index=part.index, written=[write_part(part.index, run.output.part(part.index), first)]
        )

    def finish(
        self, run: OperationRun, parts: list[StepResult], buckets: list[StepResult]
    ) -> Finished:
        return Finished(parts=[w for p in sorted(parts, key=lambda p: p.index) for w in p.written])


class Median(ElementWise):
    name = "median"
    description = (
        "A new dataset whose every number is the median of that row and column over several "
        "datasets of the same columns and row count (nulls left out); other columns are the "
        "first dataset's."
    )

    def combine(self, stacked: np.ndarray) -> np.ndarray:
        return np.asarray(np.nanmedian(stacked, axis=0))


class Mean(ElementWise):
    name = "mean"
    description = (
        "A new dataset whose every number is the mean of that row and column over several "
        "datasets of the same columns and row count (nulls left out); other columns are the "
        "first dataset's."
    )

    def combine(self, stacked: np.ndarray) -> np.ndarray:
        return np.asarray(np.nanmean(stacked, axis=0))

    def combine_integers(self, columns: list[pa.ChunkedArray]) -> np.ndarray:
        return exact_int_means(columns)
