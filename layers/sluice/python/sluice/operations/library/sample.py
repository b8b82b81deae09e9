"""Sample: n rows, or a fraction of the rows, seeded and uniform over the whole dataset.

n rows are drawn in one pass with no shuffle: how many rows each part gives is drawn
first, from the multivariate hypergeometric distribution over the parts' row counts (the
counts a uniform draw of n rows without replacement gives each part), the same in every
part step since it depends only on the seed and the manifest; then each part draws that
many of its own rows uniformly. Together that is a uniform draw of n rows of the whole
dataset. A fraction keeps each row with that probability (Bernoulli, as DuckDB's
``USING SAMPLE p% (bernoulli)``), each part from its own seeded stream.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from sluice.datasets.rows import load_manifest
from sluice.inference.types import ColumnType
from sluice.operations.base import Finished, Operation, OperationRun, PartRef, StepResult
from sluice.operations.storage import read_part, write_part
from sluice.operations.wizard import InputType, WizardInput


def allocation(part_rows: list[int], n: int, seed: int) -> list[int]:
    """How many of n uniformly drawn rows fall in each part (all rows when n exceeds them)."""
    total = sum(part_rows)
    if n >= total:
        return list(part_rows)
    rng = np.random.default_rng(seed)
    return [int(c) for c in rng.multivariate_hypergeometric(part_rows, n)]


def take_rows(table: pa.Table, count: int, seed: int, position: int) -> pa.Table:
    """``count`` of the table's rows drawn uniformly without replacement, in their order."""
    rng = np.random.default_rng([seed, position])
    chosen = np.sort(rng.choice(table.num_rows, size=count, replace=False))
    return table.take(pa.array(chosen, pa.int64()))


def keep_fraction(table: pa.Table, fraction: float, seed: int, position: int) -> pa.Table:
    """Each row kept with probability ``fraction``, independently (Bernoulli)."""
    rng = np.random.default_rng([seed, position])
    return table.filter(pa.array(rng.random(table.num_rows) < fraction))


class Sample(Operation):
    name = "sample"
    description = (
        "A new dataset of n rows drawn uniformly without replacement, or of each row kept "
        "with probability 'fraction' (give one of them); the same seed draws the same rows. "
        "Rows keep their order."
    )
    category = "table"
    output = "dataset"
    inputs: ClassVar[dict[str, WizardInput]] = {
        "dataset": WizardInput(
            name="Dataset", description="The dataset to sample.", type=InputType.DATASET
        ),
        "n": WizardInput(
            name="Rows",
            description="How many rows to draw (0: use 'fraction'); all of them when fewer.",
            type=InputType.INT,
            required=False,
            default=0,
            minimum=0,
        ),
        "fraction": WizardInput(
            name="Fraction",
            description="The probability that each row is kept (0: use 'n').",
            type=InputType.FLOAT,
            required=False,
            default=0.0,
            minimum=0.0,
            maximum=1.0,
        ),
        "seed": WizardInput(
            name="Seed",
            description="The random seed: the same seed on the same data draws the same rows.",
            type=InputType.INT,
            required=False,
            default=0,
            minimum=0,
        ),
    }

    def check(self, inputs: dict[str, Any], schemas: dict[str, dict[str, ColumnType]]) -> list[str]:
        if (inputs["n"] > 0) == (inputs["fraction"] > 0):
            return ["n: give either n or fraction (the other 0)"]
        return []

    def run_part(self, run: OperationRun, part: PartRef, buckets: int) -> StepResult:
        """The part's share of the sample, as an output part."""
        seed, n = run.inputs["seed"], run.inputs["n"]
        table = read_part(part.key)
        if n > 0:
            source = run.datasets["dataset"][0]
            manifest = load_manifest(run.owner, source.id, source.run)
            position = next(i for i, p in enumerate(manifest.parts) if p.key == part.key)
            counts = allocation([p.rows for p in manifest.parts], n, seed)
            sampled = take_rows(table, counts[position], seed, position)
        else:
            sampled = keep_fraction(table, run.inputs["fraction"], seed, part.index)
        return StepResult(
            index=part.index,
            written=[write_part(part.index, run.output.part(part.index), sampled)],
        )

    def finish(
        self, run: OperationRun, parts: list[StepResult], buckets: list[StepResult]
    ) -> Finished:
        return Finished(parts=[w for p in sorted(parts, key=lambda p: p.index) for w in p.written])
