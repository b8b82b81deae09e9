"""Describe: statistics per column, as JSON a chart or a table draws directly.

Count, nulls, min, max, mean and std merge from each part's statistics
(``describe_stats``); the exact median and quartiles of number columns take describe's
other passes (``quantiles``): a survey of sampled values, each part's counts of its
values below the windows around the sample's quartiles (and its values inside them, sent
to the column's bucket), and one bucket step per number column for the values at the
ranks its quartiles need. Text columns' top values are counted by value
(``describe_texts``): each part counts each text column's values and hash-partitions
them into the value buckets (after the rank buckets); each bucket adds up its counts and
cuts them to each column's most frequent, so that the top values are exact however many
distinct texts there are."""

from __future__ import annotations

from functools import reduce
from itertools import zip_longest
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
from sluice.operations.describe_stats import NUMERIC, as_floats, merge, part_stats, summary
from sluice.operations.describe_texts import add_top_texts, partition, text_counts, top_per_column
from sluice.operations.storage import (
    find_jsons,
    get_jsons,
    put_json,
    read_arrows,
    read_part,
    read_shuffle,
    write_arrow,
    write_shuffle,
)
from sluice.operations.wizard import InputType, WizardInput
from sluice.store import objects
from sluice.tasks.aggregate import bucket_count, schema_types


def _numbers(manifest: Manifest, columns: list[str]) -> list[str]:
    """The number columns described, in the output's order."""
    types = {c.name: c.effective_type for c in manifest.columns}
    return [n for n in (columns or list(types)) if types.get(n) in NUMERIC]


def _texts(manifest: Manifest, columns: list[str]) -> list[str]:
    """The text columns described, in the output's order."""
    types = {c.name: c.effective_type for c in manifest.columns}
    return [n for n in (columns or list(types)) if types.get(n) is ColumnType.STRING]


def _rank_buckets(manifest: Manifest, columns: list[str]) -> int:
    """One bucket step per number column: the values at the ranks around its quartiles."""
    return len(_numbers(manifest, columns))


def _finite(column: pa.ChunkedArray) -> np.ndarray:
    return qs.finite(as_floats(pc.drop_null(column)))


class Describe(Operation):
    name = "describe"
    description = (
        "Per column: count, nulls; min and max (numbers, dates, durations, texts); mean and "
        "standard deviation (numbers); the most frequent values with their counts "
        "(categories, booleans, texts); exact quartiles (numbers)."
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
        """One per number column (its quartiles' ranks); then, if it describes texts, the
        value buckets of their counts (as many as a group-by's)."""
        manifest = manifests["dataset"][0]
        ranks = _rank_buckets(manifest, run.inputs["columns"])
        if not _texts(manifest, run.inputs["columns"]):
            return ranks
        typed_bytes = sum(p.bytes for p in manifest.parts)
        return ranks + bucket_count(manifest.row_count, typed_bytes, settings().workers)

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
        """Each number column's cuts, and the windows of intervals around its quantiles'
        estimates, from every part's sample."""
        numbers = _numbers(self._manifest(run), run.inputs["columns"])
        keys = objects.list_keys(settings().data_bucket, run.partial_key("samples/"))
        samples = pa.concat_tables(read_arrows(keys))
        which = samples.column("c").to_numpy()
        values = samples.column("v").to_numpy()
        cuts, windows = {}, {}
        for i, name in enumerate(numbers):
            ranked = np.sort(values[which == i])
            at = qs.cuts(ranked)
            cuts[name], windows[name] = at.tolist(), qs.windows(ranked, at)
        put_json(run.partial_key("cuts.json"), {"cuts": cuts, "windows": windows})

    def run_part(self, run: OperationRun, part: PartRef, buckets: int) -> StepResult:
        """The part's statistics of each column, as a JSON partial (with each number
        column's counts per slot between its cuts)."""
        table = read_part(part.key, run.inputs["columns"] or None)
        types = schema_types(table.schema)
        manifest = self._manifest(run)
        numbers = _numbers(manifest, run.inputs["columns"])
        finite = {name: _finite(table.column(name)) for name in numbers}
        stats = {
            name: {
                "type": types[name].value,
                **part_stats(table.column(name), types[name], finite.get(name)),
            }
            for name in table.column_names
            if name != EXCEPTIONS and name in types
        }
        ranks = _rank_buckets(manifest, run.inputs["columns"])
        if ranks:
            (settled,) = get_jsons([run.partial_key("cuts.json")])
            near = []
            for name in numbers:
                # How many lie below each window, and the values inside them, which its
                # rank bucket reads instead of the column: no sort of the part's values.
                at, windows = np.array(settled["cuts"][name]), settled["windows"][name]
                below, inside = qs.below_and_near(finite[name], at, windows)
                stats[name]["ranks"] = {"n": len(finite[name]), "below": below}
                near.append(pa.table({"v": inside}))
            # Column i's values near its quantiles go to its rank bucket, i.
            write_shuffle(run.partial_key(f"near/p{part.index:06d}.buckets"), near)
        texts = _texts(manifest, run.inputs["columns"])
        if texts:
            self._count_texts(run, part, text_counts(table, texts), buckets - ranks)
        key = run.partial_key(f"describe/p{part.index:06d}.json")
        put_json(key, {"rows": table.num_rows, "columns": stats})
        return StepResult(index=part.index, partial=key)

    def _count_texts(
        self, run: OperationRun, part: PartRef, counts: pa.Table, buckets: int
    ) -> None:
        """The part's counts hash-partitioned by value into the value buckets, all in one
        shuffle object (its bucket b is the step's bucket ``ranks + b``)."""
        pieces = partition(counts, buckets)
        write_shuffle(
            run.partial_key(f"texts/p{part.index:06d}.buckets"),
            [rows if rows.num_rows else None for rows in pieces],
        )

    def run_bucket(self, run: OperationRun, bucket: int, parts: int) -> StepResult:
        """The values at the ranks around one number column's quartiles; or, past those,
        one value bucket's most frequent texts of each text column."""
        manifest = self._manifest(run)
        if bucket >= _rank_buckets(manifest, run.inputs["columns"]):
            return self._top_texts(run, manifest, bucket)
        name = _numbers(manifest, run.inputs["columns"])[bucket]
        keys = objects.list_keys(settings().data_bucket, run.partial_key("describe/"))
        n, below = 0, list[int]()  # below: each window's count of values under its range
        for partial in get_jsons(keys):
            counted = partial["columns"][name]["ranks"]
            n += counted["n"]
            below = [a + b for a, b in zip_longest(below, counted["below"], fillvalue=0)]
        # The ranks around each quartile (below, then above).
        wanted = (
            [(label, rank) for label, q in qs.QUANTILES for rank in qs.ranks(n, q)] if n else []
        )
        (settled,) = get_jsons([run.partial_key("cuts.json")]) if n else ({},)
        at = np.array(settled.get("cuts", {}).get(name, []))
        windows = settled.get("windows", {}).get(name, [])
        inside = self._sent(run, bucket, [qs.window_bounds(at, w) for w in windows]) if n else []
        found = {rank: qs.rank_in_windows(rank, below, inside) for _, rank in wanted}
        missed = sorted(rank for rank, value in found.items() if value is None)
        if missed:  # a rank the sample missed by more than a window: the column read again
            found.update(self._inside(manifest, name, at, missed))
        ranked = [
            {"column": name, "quantile": label, "n": n, "value": found[rank]}
            for label, rank in wanted
        ]
        key = run.partial_key(f"ranks/b{bucket:04d}.json")
        put_json(key, {"ranks": ranked})
        return StepResult(index=bucket, partial=key)

    def _sent(
        self, run: OperationRun, bucket: int, ranges: list[tuple[float, float]]
    ) -> list[np.ndarray]:
        """Each window's open range's values, sorted, from what the parts sent this rank
        bucket (every value of theirs inside one of its column's windows)."""
        if not ranges:
            return []
        keys = objects.list_keys(settings().data_bucket, run.partial_key("near/"))
        sent = [t.column(0).to_numpy() for t in read_shuffle(keys, bucket)]
        values = np.concatenate(sent) if sent else np.array([], dtype=np.float64)
        return [np.sort(values[(values > low) & (values < high)]) for low, high in ranges]

    def _inside(
        self, manifest: Manifest, name: str, at: np.ndarray, ranks: list[int]
    ) -> dict[int, float]:
        """The values of column ``name`` at ``ranks``, from the column read again, part by
        part: first the counts per slot between the cuts ``at``, which give each rank's
        slot (a cut's slot is that value), then only the values inside the intervals
        holding a rank (about rows / ``CUTS`` each), sorted."""
        counts: dict[int, int] = {}
        for stored in manifest.parts:
            for slot, count in qs.slot_counts(self._column(stored.key, name), at).items():
                counts[slot] = counts.get(slot, 0) + count
        located = {rank: qs.locate(counts, rank) for rank in ranks}
        intervals = sorted({slot for slot, _ in located.values() if slot % 2 == 0})
        kept: list[list[np.ndarray]] = [[] for _ in intervals]
        if intervals:
            for stored in manifest.parts:
                values = self._column(stored.key, name)
                for found, slot in zip(kept, intervals, strict=True):
                    low, high = qs.interval(at, slot)
                    found.append(values[(values > low) & (values < high)])
        inside = [np.sort(np.concatenate(found)) for found in kept]
        return {
            rank: float(at[slot // 2]) if slot % 2 else float(inside[intervals.index(slot)][within])
            for rank, (slot, within) in located.items()
        }

    @staticmethod
    def _column(key: str, name: str) -> np.ndarray:
        """A part's finite values of column ``name``."""
        return _finite(read_part(key, [name]).column(0))

    def _top_texts(self, run: OperationRun, manifest: Manifest, bucket: int) -> StepResult:
        """A value bucket's counts merged, cut to each text column's most frequent (a value
        lives in one bucket only, so each column's top is among the buckets' tops)."""
        keys = objects.list_keys(settings().data_bucket, run.partial_key("texts/"))
        first = _rank_buckets(manifest, run.inputs["columns"])
        tables = read_shuffle(keys, bucket - first)
        found: dict[int, list[list[Any]]] = {}
        if tables:
            found = top_per_column(pa.concat_tables(tables), run.inputs["top"])
        texts = _texts(manifest, run.inputs["columns"])
        key = run.partial_key(f"tops/b{bucket:04d}.json")
        put_json(key, {"tops": {texts[position]: values for position, values in found.items()}})
        return StepResult(index=bucket, partial=key)

    def finish(
        self, run: OperationRun, parts: list[StepResult], buckets: list[StepResult]
    ) -> Finished:
        ordered = sorted(parts, key=lambda p: p.index)
        rows, columns = _merged(get_jsons([p.partial for p in ordered if p.partial]), run)
        ranked = sorted(buckets, key=lambda b: b.index)  # each rank below before its above
        answers = get_jsons([b.partial for b in ranked if b.partial])
        qs.add_quantiles(columns, [item for a in answers for item in a.get("ranks", [])])
        add_top_texts(columns, [a["tops"] for a in answers if "tops" in a], run.inputs["top"])
        return Finished(data={"rows": rows, "columns": columns})

    def partial(self, run: OperationRun) -> Any:
        """The statistics of the parts done so far (no quartiles yet)."""
        etags = objects.list_etags(settings().data_bucket, run.partial_key("describe/"))
        partials = _partials_read(etags) if etags else None
        if not partials:
            return None
        rows, columns = _merged(partials, run)
        return {"rows": rows, "columns": columns, "parts_done": len(etags)}


_READ: dict[tuple[str, str], Any] = {}
"""Parts' statistics already read, by key and ETag: a client polls a running describe
every fraction of a second, and each poll read every finished part's statistics again
(16 GETs a poll at 1 GB, each costing the embedded S3 and the API's process more CPU
than the steps could spare)."""
READ_MOST = 4096


def _partials_read(etags: dict[str, str]) -> list[Any] | None:
    """The statistics at ``etags``' keys, in key order (each read once per ETag), or None
    if any is gone (as ``find_jsons``)."""
    keys = sorted(etags)
    known = {key: _READ.get((key, etags[key])) for key in keys}
    new = [key for key, body in known.items() if body is None]
    found = find_jsons(new) if new else []
    if found is None:
        return None
    if len(_READ) + len(new) > READ_MOST:
        _READ.clear()
    for key, body in zip(new, found, strict=True):
        known[key] = _READ[(key, etags[key])] = body
    return [known[key] for key in keys]


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
