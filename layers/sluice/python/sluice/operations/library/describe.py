"""Describe: statistics per column, as JSON a chart or a table draws directly.

Count, nulls, min, max, mean and std merge from each part's statistics; the exact median
and quartiles of number columns take describe's other passes (``quantiles``): a survey
of sampled values, each part's counts per slot between the sampled cuts, and one bucket
step per rank a quartile needs."""

from __future__ import annotations

from functools import reduce
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sluice.config import settings
from sluice.datasets.manifest import Manifest
from sluice.datasets.rows import EXCEPTIONS, load_manifest
from sluice.inference.types import ColumnType
from sluice.operations import quantiles as qs
from sluice.operations.base import Finished, Operation, OperationRun, PartRef, StepResult
from sluice.operations.describe_stats import NUMERIC, merge, part_stats, summary
from sluice.operations.storage import (
    find_jsons,
    get_jsons,
    put_json,
    read_arrows,
    read_part,
    write_arrow,
)
from sluice.operations.wizard import InputType, WizardInput
from sluice.store import objects
from sluice.tasks.aggregate import schema_types


def _numbers(manifest: Manifest, columns: list[str]) -> list[str]:
    """The number columns described, in the output's order."""
    types = {c.name: c.effective_type for c in manifest.columns}
    return [n for n in (columns or list(types)) if types.get(n) in NUMERIC]


def _finite(column: pa.ChunkedArray) -> np.ndarray:
    values = np.asarray(pc.drop_null(column).to_numpy(), dtype=np.float64)
    return qs.finite(values)


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

    def _manifest(self, run: OperationRun) -> Manifest:
        source = run.datasets["dataset"][0]
        return load_manifest(run.owner, source.id, source.run)

    def surveys(self, run: OperationRun, manifests: dict[str, list[Manifest]]) -> bool:
        return bool(_numbers(manifests["dataset"][0], run.inputs["columns"]))

    def bucket_count(self, run: OperationRun, manifests: dict[str, list[Manifest]]) -> int:
        """One per rank a quartile needs, per number column."""
        return qs.SLOTS_PER_COLUMN * len(_numbers(manifests["dataset"][0], run.inputs["columns"]))

    def survey_part(self, run: OperationRun, part: PartRef, buckets: int) -> None:
        """A sample of each number column's finite values (long: column index, value)."""
        manifest = self._manifest(run)
        numbers = _numbers(manifest, run.inputs["columns"])
        fraction = min(1.0, qs.SAMPLES_PER_CUT * qs.CUTS / max(1, manifest.row_count))
        table = read_part(part.key, numbers)
        drawn = [qs.sample(_finite(table.column(n)), fraction, part.index) for n in numbers]
        write_arrow(
            run.partial_key(f"samples/p{part.index:06d}.arrow"),
            pa.table(
                {
                    "c": np.concatenate(
                        [np.full(len(d), i, np.int32) for i, d in enumerate(drawn)]
                    ),
                    "v": np.concatenate(drawn),
                }
            ),
        )

    def settle(self, run: OperationRun, buckets: int) -> None:
        """Each number column's cuts, from every part's sample."""
        numbers = _numbers(self._manifest(run), run.inputs["columns"])
        keys = objects.list_keys(settings().data_bucket, run.partial_key("samples/"))
        samples = pa.concat_tables(read_arrows(keys))
        which = samples.column("c").to_numpy()
        values = samples.column("v").to_numpy()
        put_json(
            run.partial_key("cuts.json"),
            {n: qs.cuts(values[which == i]).tolist() for i, n in enumerate(numbers)},
        )

    def run_part(self, run: OperationRun, part: PartRef, buckets: int) -> StepResult:
        """The part's statistics of each column, as a JSON partial (with each number
        column's counts per slot between its cuts)."""
        table = read_part(part.key, run.inputs["columns"] or None)
        types = schema_types(table.schema)
        stats = {
            name: {"type": types[name].value, **part_stats(table.column(name), types[name])}
            for name in table.column_names
            if name != EXCEPTIONS and name in types
        }
        if buckets:
            (cuts,) = get_jsons([run.partial_key("cuts.json")])
            for name, at in cuts.items():
                counted = qs.slot_counts(_finite(table.column(name)), np.array(at))
                stats[name]["slots"] = {str(s): c for s, c in counted.items()}
        key = run.partial_key(f"describe/p{part.index:06d}.json")
        put_json(key, {"rows": table.num_rows, "columns": stats})
        return StepResult(index=part.index, partial=key)

    def run_bucket(self, run: OperationRun, bucket: int, parts: int) -> StepResult:
        """The value at one rank a quartile needs, of one number column."""
        manifest = self._manifest(run)
        name = _numbers(manifest, run.inputs["columns"])[bucket // qs.SLOTS_PER_COLUMN]
        label, q = qs.QUANTILES[bucket % qs.SLOTS_PER_COLUMN // 2]
        keys = objects.list_keys(settings().data_bucket, run.partial_key("describe/"))
        counts: dict[int, int] = {}
        for partial in get_jsons(keys):
            for slot, count in partial["columns"][name].get("slots", {}).items():
                counts[int(slot)] = counts.get(int(slot), 0) + count
        n = sum(counts.values())
        value = None
        if n:
            rank = qs.ranks(n, q)[bucket % 2]
            slot, within = qs.locate(counts, rank)
            (cuts,) = get_jsons([run.partial_key("cuts.json")])
            at = np.array(cuts[name])
            if slot % 2:  # a cut's own value
                value = float(at[slot // 2])
            else:  # read the values inside the interval, part by part
                low, high = qs.interval(at, slot)
                inside = []
                for stored in manifest.parts:
                    values = _finite(read_part(stored.key, [name]).column(0))
                    inside.append(values[(values > low) & (values < high)])
                value = float(np.sort(np.concatenate(inside))[within])
        key = run.partial_key(f"ranks/b{bucket:04d}.json")
        put_json(key, {"column": name, "quantile": label, "n": n, "value": value})
        return StepResult(index=bucket, partial=key)

    def finish(
        self, run: OperationRun, parts: list[StepResult], buckets: list[StepResult]
    ) -> Finished:
        ordered = sorted(parts, key=lambda p: p.index)
        rows, columns = _merged(get_jsons([p.partial for p in ordered if p.partial]), run)
        ranked = sorted(buckets, key=lambda b: b.index)  # each rank below before its above
        _add_quantiles(columns, get_jsons([b.partial for b in ranked if b.partial]))
        return Finished(data={"rows": rows, "columns": columns})

    def partial(self, run: OperationRun) -> Any:
        """The statistics of the parts done so far (no quartiles yet)."""
        keys = objects.list_keys(settings().data_bucket, run.partial_key("describe/"))
        partials = find_jsons(keys) if keys else None
        if not partials:
            return None
        rows, columns = _merged(partials, run)
        return {"rows": rows, "columns": columns, "parts_done": len(keys)}


def _merged(partials: list[dict[str, Any]], run: OperationRun) -> tuple[int, list[dict[str, Any]]]:
    """The rows counted and each column's line, from parts' statistics."""
    rows = sum(p["rows"] for p in partials)
    names = list(partials[0]["columns"]) if partials else []
    columns = []
    for name in names:
        kind = partials[0]["columns"][name]["type"]
        merged = reduce(merge, (p["columns"][name] for p in partials))
        columns.append(summary(name, ColumnType(kind), merged, run.inputs["top"]))
    return rows, columns


def _add_quantiles(columns: list[dict[str, Any]], ranked: list[dict[str, Any]]) -> None:
    """Each number column's q1, median and q3 from the values at the ranks around them."""
    found: dict[tuple[str, str], list[float]] = {}
    counts: dict[str, int] = {}
    for item in ranked:
        found.setdefault((item["column"], item["quantile"]), []).append(item["value"])
        counts[item["column"]] = item["n"]
    quantiles = dict(qs.QUANTILES)
    for line in columns:
        for label, q in quantiles.items():
            values = found.get((line["name"], label))
            if values is None:
                continue
            n = counts[line["name"]]
            below, above = values if len(values) == 2 else (values[0], values[0])
            line[label] = None if not n else qs.interpolate(n, q, below, above)
