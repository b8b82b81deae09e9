"""Histogram: equal-width bins over a number, time or duration column; counts per value of
a category, boolean or text column. JSON a chart draws directly.

Bins need the column's range before any part can count. Up to ``FOOTER_SURVEY_PARTS``
parts, Plan reads it from the parts' Parquet statistics and writes the edges itself,
where those tell it (every row group's bounds finite); otherwise the parts are surveyed
first (each part's finite min and max) and Settle writes the edges. Then each Map child
counts its batch of parts' values per bin into one partial (the parts read at once, the
edges once) and Finish adds the counts. Values are counted as group-by counts them:
each part's counts hash-partitioned into buckets, each bucket merged and cut to its most
frequent values, so that the top values are exact however many distinct texts there are.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluice.config import settings
from sluice.datasets.manifest import Manifest
from sluice.datasets.rows import load_manifest
from sluice.inference.types import ColumnType
from sluice.operations.base import Finished, Operation, OperationRun, PartRef, StepResult
from sluice.operations.histogram_bins import (
    BINNED,
    UNKNOWN,
    as_numbers,
    bin_counts,
    edge_label,
    edges,
    finite_range,
    statistics_range,
    unit_of,
)
from sluice.operations.storage import (
    find_jsons,
    get_jsons,
    part_footers,
    put_json,
    read_part,
    read_shuffle,
    write_shuffle,
)
from sluice.operations.wizard import InputType, WizardInput
from sluice.store import objects
from sluice.tasks.aggregate import AggregateSpec, bucket_count, merge_partials, partial_aggregate

COUNT = "__count"

FOOTER_SURVEY_PARTS = 64
"""Up to this many parts, Plan reads the bins' range from the parts' footers (in threads,
a round trip or two each) rather than run a survey Map: a fan-out stage fewer, which is
most of a small histogram's time."""


READ_THREADS = 4
"""A batch's parts whose column is read and binned at once: one column of a part is a few
MB, and most of a part's time is its requests."""


def _column_type(run: OperationRun) -> ColumnType:
    source = run.datasets["dataset"][0]
    manifest = load_manifest(run.owner, source.id, source.run)
    return _type_in(manifest, run.inputs["column"])


def _type_in(manifest: Manifest, column: str) -> ColumnType:
    return next(c.effective_type for c in manifest.columns if c.name == column)


def _label(value: Any) -> str:
    """A counted value as a chart's label: booleans as JSON writes them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _count_spec(column: str) -> AggregateSpec:
    return AggregateSpec(
        group_by=[column], aggregations=[{"column": "*", "op": "count", "name": COUNT}]
    )


class Histogram(Operation):
    name = "histogram"
    description = (
        "Numbers, times and durations: counts in equal-width bins between the column's "
        "least and greatest finite value (as numpy.histogram). Categories, booleans and "
        "texts: the most frequent values with their counts. Nulls (and NaN, infinities) "
        "are counted apart."
    )
    category = "statistics"
    output = "data"
    inputs: ClassVar[dict[str, WizardInput]] = {
        "dataset": WizardInput(
            name="Dataset", description="The dataset to draw.", type=InputType.DATASET
        ),
        "column": WizardInput(
            name="Column", description="The column to count.", type=InputType.COLUMN, of="dataset"
        ),
        "bins": WizardInput(
            name="Bins",
            description="How many equal-width bins (numbers, times, durations).",
            type=InputType.INT,
            required=False,
            default=20,
            minimum=1,
            maximum=1000,
        ),
        "top": WizardInput(
            name="Values",
            description="How many of the most frequent values to list (the rest counted "
            "as 'other'); categories, booleans, texts.",
            type=InputType.INT,
            required=False,
            default=50,
            minimum=1,
            maximum=1000,
        ),
    }

    def surveys(self, run: OperationRun, manifests: dict[str, list[Manifest]]) -> bool:
        """Bins need a survey, unless the parts' footers tell their range: then the edges
        are written here, and the parts read them as they would Settle's."""
        manifest, column = manifests["dataset"][0], run.inputs["column"]
        if _type_in(manifest, column) not in BINNED:
            return False
        if len(manifest.parts) > FOOTER_SURVEY_PARTS:
            return True
        found = statistics_range(part_footers([(p.key, p.bytes) for p in manifest.parts]), column)
        if found is UNKNOWN:
            return True
        self._write_edges(run, [found] if found is not None else [], _type_in(manifest, column))
        return False

    def bucket_count(self, run: OperationRun, manifests: dict[str, list[Manifest]]) -> int:
        manifest = manifests["dataset"][0]
        if _type_in(manifest, run.inputs["column"]) in BINNED:
            return 0
        typed_bytes = sum(p.bytes for p in manifest.parts)
        return bucket_count(manifest.row_count, typed_bytes, settings().workers)

    def survey_part(self, run: OperationRun, part: PartRef, buckets: int) -> None:
        """The part's finite range."""
        numbers = as_numbers(read_part(part.key, [run.inputs["column"]]).column(0))
        put_json(run.partial_key(f"survey/p{part.index:06d}.json"), finite_range(numbers))

    def settle(self, run: OperationRun, buckets: int) -> None:
        """The bins' edges over the whole column's finite range (none when it has none)."""
        keys = objects.list_keys(settings().data_bucket, run.partial_key("survey/"))
        self._write_edges(run, [r for r in get_jsons(keys) if r is not None], _column_type(run))

    def _write_edges(self, run: OperationRun, ranges: list[Any], kind: ColumnType) -> None:
        """The bins' edges over the parts' finite ranges (none when no part has one), with
        the column's type, so that Finish and every poll read no manifest for it."""
        found = None
        if ranges:
            low, high = min(r[0] for r in ranges), max(r[1] for r in ranges)
            found = edges(low, high, run.inputs["bins"]).tolist()
        put_json(run.partial_key("edges.json"), {"edges": found, "type": kind.value})

    def run_part(self, run: OperationRun, part: PartRef, buckets: int) -> StepResult:
        return self.run_parts(run, [part], buckets)[0]

    def run_parts(self, run: OperationRun, parts: list[PartRef], buckets: int) -> list[StepResult]:
        """A batch's parts: values counted part by part into the shuffle; bins counted
        over the batch's parts together (their columns read at once, the edges read
        once) into one partial, which the batch's first answer names."""
        column = run.inputs["column"]
        if buckets:
            return [
                self._count_values(run, part, read_part(part.key, [column], part.bytes), buckets)
                for part in parts
            ]
        (binning,) = get_jsons([run.partial_key("edges.json")])
        found = np.array(binning["edges"]) if binning["edges"] is not None else None

        def counted(part: PartRef) -> tuple[np.ndarray, int, int, str]:
            values = read_part(part.key, [column], part.bytes).column(0)
            numbers = as_numbers(values)
            counts = np.zeros(0, np.int64) if found is None else bin_counts(numbers, found)
            finite = int(np.isfinite(numbers).sum())
            return counts, values.null_count, len(numbers) - finite, unit_of(values.type)

        each = objects.concurrently(counted, parts, READ_THREADS)  # threads kept for the process
        first = min(part.index for part in parts)
        key = run.partial_key(f"bins/p{first:06d}.json")
        put_json(
            key,
            {
                "counts": np.sum([c for c, *_ in each], axis=0, dtype=np.int64).tolist(),
                "nulls": sum(n for _, n, _, _ in each),
                "non_finite": sum(x for _, _, x, _ in each),
                "unit": each[0][3],
                "parts": len(parts),
            },
        )
        return [
            StepResult(index=part.index, partial=key if part.index == first else None)
            for part in parts
        ]

    def _count_values(
        self, run: OperationRun, part: PartRef, table: pa.Table, buckets: int
    ) -> StepResult:
        """The part's count of each value, hash-partitioned into the buckets (bucket 0
        always written: it carries the columns of an empty result)."""
        partials = partial_aggregate(table, _count_spec(run.inputs["column"]), buckets)

        write_shuffle(
            run.partial_key(f"shuffle/p{part.index:06d}.buckets"),
            [rows if rows.num_rows or b == 0 else None for b, rows in enumerate(partials)],
        )
        return StepResult(index=part.index)

    def run_bucket(self, run: OperationRun, bucket: int, parts: int) -> StepResult:
        """The bucket's values merged, cut to its most frequent (a value lives in one
        bucket only, so the global top is among the buckets' tops)."""
        column, top = run.inputs["column"], run.inputs["top"]
        keys = objects.list_keys(settings().data_bucket, run.partial_key("shuffle/"))
        tables = read_shuffle(keys, bucket)
        values: list[list[Any]] = []
        rest = nulls = 0
        if tables:
            merged = merge_partials(tables, _count_spec(column))
            null_rows = merged.column(column).is_null()
            nulls = int(pc.sum(merged.filter(null_rows).column(COUNT)).as_py() or 0)
            # By count, then value: the order finish ranks by, so that the cut is exact.
            ranked = merged.filter(pc.invert(null_rows)).sort_by(
                [(COUNT, "descending"), (column, "ascending")]
            )
            kept = ranked.slice(0, top)
            labels = [_label(v) for v in kept.column(column).to_pylist()]
            values = [[v, c] for v, c in zip(labels, kept.column(COUNT).to_pylist(), strict=True)]
            rest = int(pc.sum(ranked.column(COUNT)).as_py() or 0) - sum(c for _, c in values)
        key = run.partial_key(f"counts/b{bucket:04d}.json")
        put_json(key, {"values": values, "rest": rest, "nulls": nulls})
        return StepResult(index=bucket, partial=key)

    def finish(
        self, run: OperationRun, parts: list[StepResult], buckets: list[StepResult]
    ) -> Finished:
        column = run.inputs["column"]
        if buckets:
            kind = _column_type(run)
            partials = get_jsons([b.partial for b in buckets if b.partial])
            values = [v for p in partials for v in p["values"]]
            values.sort(key=lambda v: (-v[1], v[0]))
            top = values[: run.inputs["top"]]
            other = sum(p["rest"] for p in partials) + sum(c for _, c in values[len(top) :])
            return Finished(
                data={
                    "column": column,
                    "type": kind.value,
                    "kind": "counts",
                    "values": [{"value": v, "count": c} for v, c in top],
                    "other": other,
                    "nulls": sum(p["nulls"] for p in partials),
                }
            )
        ordered = sorted(parts, key=lambda p: p.index)
        keys = [p.partial for p in ordered if p.partial]
        binning, *partials = get_jsons([run.partial_key("edges.json"), *keys])  # at once
        return Finished(data=self._bins(run, partials, binning))

    def partial(self, run: OperationRun) -> Any:
        """The bins' counts of the parts done so far (values are counted only at the end)."""
        keys = objects.list_keys(settings().data_bucket, run.partial_key("bins/"))
        found = find_jsons([run.partial_key("edges.json"), *keys]) if keys else None
        if not found:
            return None
        done = sum(p.get("parts", 1) for p in found[1:])
        return {**self._bins(run, found[1:], found[0]), "parts_done": done}

    def _bins(
        self,
        run: OperationRun,
        partials: list[dict[str, Any]],
        binning: dict[str, Any],
    ) -> dict[str, Any]:
        """The chart's bins, from parts' counts and the edges' file (edges and type)."""
        bin_edges: list[float] | None = binning["edges"]
        kind = ColumnType(binning["type"])
        counts = np.zeros(len(bin_edges) - 1 if bin_edges else 0, dtype=np.int64)
        for partial in partials:
            counts += np.array(partial["counts"], dtype=np.int64)
        unit = partials[0]["unit"] if partials else "us"
        labels = [edge_label(e, kind, unit) for e in bin_edges or []]
        return {
            "column": run.inputs["column"],
            "type": kind.value,
            "kind": "bins",
            "bins": [
                {"start": labels[i], "end": labels[i + 1], "count": int(c)}
                for i, c in enumerate(counts)
            ],
            "nulls": sum(p["nulls"] for p in partials),
            "non_finite": sum(p["non_finite"] for p in partials),
        }
