"""Sort: a new dataset of the rows in the order of some columns, by sampled range
partitioning.

Survey: each part samples its sort keys. Settle: the samples, sorted, give the buckets'
boundaries (equal shares of the sample). Parts: each part sends each row to the bucket
whose range holds it. Buckets: each bucket sorts its rows, and becomes the output part of
its index, so that the output's parts, read in order, are the whole dataset sorted. The
sort is stable: rows with equal keys keep the dataset's order (see ``sorting``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import pyarrow as pa

from sluice.config import settings
from sluice.datasets.manifest import Manifest
from sluice.datasets.rows import load_manifest
from sluice.inference.types import ColumnType
from sluice.operations.base import Finished, Operation, OperationRun, PartRef, StepResult
from sluice.operations.sorting import (
    TIES,
    boundaries,
    bucket_of,
    order,
    sample_rows,
    sort_keys,
    split,
    with_ties,
)
from sluice.operations.storage import (
    read_arrows,
    read_part,
    read_shuffle,
    write_arrow,
    write_part,
    write_shuffle,
)
from sluice.operations.wizard import InputType, WizardInput
from sluice.store import objects
from sluice.tasks.aggregate import bucket_count

SAMPLES_PER_BUCKET = 64
"""Sampled keys per bucket, over the whole dataset: enough that no bucket is likely to
hold much more than its share (the shares' spread shrinks as its square root)."""


class Sort(Operation):
    name = "sort"
    description = (
        "A new dataset of the rows sorted by columns (each ascending, or descending when "
        "listed in 'descending'), nulls first or last; rows with equal keys keep their order."
    )
    category = "table"
    output = "dataset"
    inputs: ClassVar[dict[str, WizardInput]] = {
        "dataset": WizardInput(
            name="Dataset", description="The dataset to sort.", type=InputType.DATASET
        ),
        "by": WizardInput(
            name="Sort by",
            description="The columns to sort by, the first deciding first.",
            type=InputType.COLUMNS,
            of="dataset",
            minimum=1,
        ),
        "descending": WizardInput(
            name="Descending",
            description="Which of those columns sort from the greatest value down.",
            type=InputType.COLUMNS,
            of="dataset",
            required=False,
            default=[],
            ordered=False,
        ),
        "nulls": WizardInput(
            name="Nulls",
            description="Whether missing values sort before every value or after.",
            type=InputType.SELECT,
            options=["last", "first"],
            required=False,
            default="last",
        ),
    }

    def check(self, inputs: dict[str, Any], schemas: dict[str, dict[str, ColumnType]]) -> list[str]:
        return [
            f"descending[{i}]: {name!r} is not one of the columns sorted by"
            for i, name in enumerate(inputs["descending"])
            if name not in inputs["by"]
        ]

    def surveys(self, run: OperationRun, manifests: dict[str, list[Manifest]]) -> bool:
        return True

    def bucket_count(self, run: OperationRun, manifests: dict[str, list[Manifest]]) -> int:
        """As group-by's: one bucket per 48 MiB of typed data or 2M rows."""
        manifest = manifests["dataset"][0]
        typed_bytes = sum(p.bytes for p in manifest.parts)
        return bucket_count(manifest.row_count, typed_bytes, settings().workers)

    def _options(self, run: OperationRun) -> tuple[list[str], set[str], Any]:
        return run.inputs["by"], set(run.inputs["descending"]), run.inputs["nulls"]

    def survey_part(self, run: OperationRun, part: PartRef, buckets: int) -> None:
        """A uniform sample of the part's sort keys (with their ties), some
        ``SAMPLES_PER_BUCKET`` per bucket over the whole dataset."""
        by = run.inputs["by"]
        source = run.datasets["dataset"][0]
        total = load_manifest(run.owner, source.id, source.run).row_count
        fraction = min(1.0, SAMPLES_PER_BUCKET * buckets / max(1, total))
        keys = sort_keys(with_ties(read_part(part.key, by), part.index), by)
        chosen = sample_rows(keys.num_rows, fraction, part.index)
        write_arrow(
            run.partial_key(f"samples/p{part.index:06d}.arrow"),
            keys.take(pa.array(chosen, pa.int64())),
        )

    def settle(self, run: OperationRun, buckets: int) -> None:
        """The buckets' boundaries, from every part's sample."""
        keys = objects.list_keys(settings().data_bucket, run.partial_key("samples/"))
        samples = pa.concat_tables(read_arrows(keys))
        by, descending, nulls = self._options(run)
        write_arrow(
            run.partial_key("bounds.arrow"), boundaries(samples, buckets, by, descending, nulls)
        )

    def run_part(self, run: OperationRun, part: PartRef, buckets: int) -> StepResult:
        """The part's rows sent to their buckets (bucket 0 always written: it carries the
        columns of an empty result)."""
        by, descending, nulls = self._options(run)
        (bounds,) = read_arrows([run.partial_key("bounds.arrow")])
        table = with_ties(read_part(part.key), part.index)
        pieces = split(
            table, bucket_of(sort_keys(table, by), bounds, by, descending, nulls), buckets
        )

        write_shuffle(
            run.partial_key(f"shuffle/p{part.index:06d}.buckets"),
            [rows if rows.num_rows or b == 0 else None for b, rows in enumerate(pieces)],
        )
        return StepResult(index=part.index)

    def run_bucket(self, run: OperationRun, bucket: int, parts: int) -> StepResult:
        """The bucket's rows sorted, as the output part of its index."""
        keys = objects.list_keys(settings().data_bucket, run.partial_key("shuffle/"))
        tables = read_shuffle(keys, bucket)
        if not tables:
            return StepResult(index=bucket)
        by, descending, nulls = self._options(run)
        rows = pa.concat_tables(tables)
        ranked = rows.take(order(sort_keys(rows, by), by, descending, nulls)).drop_columns(
            list(TIES)
        )
        if ranked.num_rows == 0 and bucket != 0:
            return StepResult(index=bucket)
        return StepResult(
            index=bucket, written=[write_part(bucket, run.output.part(bucket), ranked)]
        )

    def finish(
        self, run: OperationRun, parts: list[StepResult], buckets: list[StepResult]
    ) -> Finished:
        return Finished(
            parts=[w for b in sorted(buckets, key=lambda b: b.index) for w in b.written]
        )
