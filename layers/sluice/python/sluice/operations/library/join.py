"""Join: the rows of two datasets matched on key columns (inner, left, right or outer).

Where one side is small (``joining.broadcast_side``: at most ``BROADCAST_MAX_BYTES`` of
typed Parquet, and a join that keeps none of its unmatched rows alone), it is broadcast:
each part of the other side reads the whole small side and joins with it, and becomes an
output part (if it has rows, or is that side's first: an empty result keeps its
columns); no shuffle, no buckets. Otherwise both sides are hash-partitioned into
buckets as group-by's shuffle does: each part of either side sends each row to the
bucket its key hashes to (keys in one type per key, so that equal keys meet), and each
bucket joins its left rows with its right rows and becomes an output part. See
``joining`` for types, nulls and names.

An inner join that broadcasts on one integer-like key (ints, datetimes, durations) reads
only the row groups of a part whose key statistics' [min, max] hold one of the small
side's keys (``joining.groups_to_read``): the others' rows would all go unmatched, and
a part with none of them reads its footer only, as a database skips a scan's blocks by
their min and max.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from sluice.config import settings
from sluice.datasets.manifest import Manifest
from sluice.datasets.rows import load_manifest
from sluice.inference.types import ColumnType
from sluice.operations.base import Finished, Operation, OperationRun, PartRef, StepResult
from sluice.operations.joining import (
    JOIN_TYPES,
    broadcast_side,
    compare_type,
    empty_side,
    groups_to_read,
    join_bucket,
    key_types,
    output_names,
    sortable,
    sorted_keys,
    with_keys,
)
from sluice.operations.sorting import split
from sluice.operations.storage import read_part, read_shuffle, write_part, write_shuffle
from sluice.operations.wizard import InputType, WizardInput
from sluice.store import objects
from sluice.store.parquet_parts import part_file
from sluice.tasks.aggregate import bucket_count
from sluice.tasks.aggregate_output import key_buckets

SIDES = ("left", "right")

BROADCAST_MAX_BYTES = 64 * 1024 * 1024
"""The most typed Parquet a side may have to be broadcast: every part step of the other
side holds it whole (a few times this in Arrow), well inside a 3,008 MB part Lambda."""


def _right_on(inputs: dict[str, Any]) -> list[str]:
    return list(inputs["right_on"] or inputs["on"])


class Join(Operation):
    name = "join"
    description = (
        "A new dataset of the rows of two datasets matched on key columns: inner (matches "
        "only), left or right (every row of that side, matched or not), outer (every row of "
        "both). Null keys match nothing. The left's columns, then the right's others; a "
        "right column whose name the left has takes the suffix. Rows in no set order."
    )
    category = "table"
    output = "dataset"
    inputs: ClassVar[dict[str, WizardInput]] = {
        "left": WizardInput(name="Left", description="The left dataset.", type=InputType.DATASET),
        "right": WizardInput(
            name="Right", description="The right dataset.", type=InputType.DATASET
        ),
        "on": WizardInput(
            name="Keys",
            description="The left's key columns.",
            type=InputType.COLUMNS,
            of="left",
            minimum=1,
        ),
        "right_on": WizardInput(
            name="Right keys",
            description="The right's key columns, in the same order (none: the same names).",
            type=InputType.COLUMNS,
            of="right",
            required=False,
            default=[],
        ),
        "how": WizardInput(
            name="Join type",
            description="Which rows without a match are kept.",
            type=InputType.SELECT,
            options=list(JOIN_TYPES),
            required=False,
            default="inner",
        ),
        "suffix": WizardInput(
            name="Suffix",
            description="Added to a right column's name that the left has too.",
            type=InputType.STRING,
            required=False,
            default="_right",
        ),
    }

    def check(self, inputs: dict[str, Any], schemas: dict[str, dict[str, ColumnType]]) -> list[str]:
        left, right = schemas["left"], schemas["right"]
        on, right_on = inputs["on"], _right_on(inputs)
        if len(right_on) != len(on):
            return [f"right_on: give as many keys as on ({len(on)}), not {len(right_on)}"]
        missing = [f"on[{i}]: no column {n!r} in the right" for i, n in enumerate(right_on)]
        missing = [m for m, n in zip(missing, right_on, strict=True) if n not in right]
        if missing:
            return missing
        problems = key_types(left, right, on, right_on)[1]
        names = [*left, *output_names(list(left), list(right), right_on, inputs["suffix"]).values()]
        clashes = sorted({n for n in names if names.count(n) > 1})
        problems += [f"suffix: {n!r} would name two columns" for n in clashes]
        return problems

    def bucket_count(self, run: OperationRun, manifests: dict[str, list[Manifest]]) -> int:
        """None where a side is broadcast; else as group-by's, over both sides' rows and
        bytes."""
        if self._broadcast(run.inputs, manifests) is not None:
            return 0
        sides = [manifests[side][0] for side in SIDES]
        rows = sum(m.row_count for m in sides)
        typed_bytes = sum(p.bytes for m in sides for p in m.parts)
        return bucket_count(rows, typed_bytes, settings().workers)

    def _broadcast(
        self, inputs: dict[str, Any], manifests: dict[str, list[Manifest]]
    ) -> str | None:
        sizes = {side: sum(p.bytes for p in manifests[side][0].parts) for side in SIDES}
        return broadcast_side(inputs["how"], sizes["left"], sizes["right"], BROADCAST_MAX_BYTES)

    def _manifests(self, run: OperationRun) -> dict[str, list[Manifest]]:
        return {
            side: [load_manifest(run.owner, d.id, d.run) for d in run.datasets[side][:1]]
            for side in SIDES
        }

    def _schemas(self, run: OperationRun) -> dict[str, dict[str, ColumnType]]:
        return self._schemas_of(self._manifests(run))

    def _schemas_of(self, manifests: dict[str, list[Manifest]]) -> dict[str, dict[str, ColumnType]]:
        return {
            side: {c.name: c.effective_type for c in manifests[side][0].columns} for side in SIDES
        }

    def _kinds(self, run: OperationRun, schemas: dict[str, dict[str, ColumnType]]) -> list[Any]:
        kinds, problems = key_types(
            schemas["left"], schemas["right"], run.inputs["on"], _right_on(run.inputs)
        )
        if problems:  # checked when asked; a replaced dataset may have changed since
            raise ValueError("; ".join(problems))
        return kinds

    def _prefix(self, run: OperationRun, side: str) -> str:
        return run.partial_key(f"shuffle/{side}/")

    def run_part(self, run: OperationRun, part: PartRef, buckets: int) -> StepResult:
        """Broadcast: the part joined with the whole small side (the small side's own parts
        do nothing). Shuffled: the part's rows sent to the buckets their keys hash to."""
        manifests = self._manifests(run)
        schemas = self._schemas_of(manifests)
        kinds = self._kinds(run, schemas)
        if not buckets:
            return self._join_broadcast(run, part, manifests, schemas, kinds)
        keys = run.inputs["on"] if part.input == "left" else _right_on(run.inputs)
        # Its typed columns (failed values' raw texts are not carried).
        keyed = with_keys(read_part(part.key, list(schemas[part.input])), keys, kinds)
        pieces = split(keyed, key_buckets([keyed.column(k) for k in keys], buckets), buckets)

        write_shuffle(
            f"{self._prefix(run, part.input)}p{part.index:06d}.buckets",
            [rows if rows.num_rows else None for rows in pieces],
        )
        return StepResult(index=part.index)

    def _join_broadcast(
        self,
        run: OperationRun,
        part: PartRef,
        manifests: dict[str, list[Manifest]],
        schemas: dict[str, dict[str, ColumnType]],
        kinds: list[Any],
    ) -> StepResult:
        small = self._broadcast(run.inputs, manifests)
        if small is None:  # a replaced dataset grew since the plan: refuse, never guess
            raise ValueError("the join's small side is no longer small enough to broadcast")
        if part.input == small:
            return StepResult(index=part.index)
        small_parts = tuple(p.key for p in manifests[small][0].parts)
        whole = _whole_side(small_parts, tuple(schemas[small]))
        rows = self._part_rows(run, part, schemas, small_parts, kinds)
        sides = {part.input: rows, small: whole if whole.num_rows else empty_side(schemas[small])}
        joined = _joined(run, sides, kinds)
        if not joined.num_rows and part.key != manifests[part.input][0].parts[0].key:
            # No rows, no part (its write, PUT and Finish's read of its footer): the large
            # side's first part carries the columns of an empty result.
            return StepResult(index=part.index)
        return StepResult(
            index=part.index, written=[write_part(part.index, run.output.part(part.index), joined)]
        )

    def _part_rows(
        self,
        run: OperationRun,
        part: PartRef,
        schemas: dict[str, dict[str, ColumnType]],
        small_parts: tuple[str, ...],
        kinds: list[Any],
    ) -> pa.Table:
        """The part's typed columns: in an inner join on one integer-like key, only its row
        groups whose key range holds one of the small side's keys (see the module's
        docstring); else all of them."""
        sides = {"left": list(run.inputs["on"]), "right": _right_on(run.inputs)}
        small = "right" if part.input == "left" else "left"
        own, other, columns = sides[part.input], sides[small], list(schemas[part.input])
        compared = compare_type(kinds[0]) if len(kinds) == 1 and kinds[0] is not None else None
        if run.inputs["how"] != "inner" or compared is None or not sortable(compared):
            return read_part(part.key, columns, part.bytes)
        wanted = _small_keys(small_parts, tuple(schemas[small]), other[0], kinds[0])
        parquet = part_file(part.key, part.bytes)
        parquet.ensure_complete_metadata()
        groups = groups_to_read(parquet.metadata, own[0], compared, wanted)
        return parquet.subset(row_group_ids=groups).to_table(columns=columns)

    def run_bucket(self, run: OperationRun, bucket: int, parts: int) -> StepResult:
        """The bucket's rows joined, as one output part (none when it has no rows, but for
        bucket 0: it carries the columns of an empty result)."""
        schemas = self._schemas(run)
        kinds = self._kinds(run, schemas)
        sides = {}
        for side in SIDES:
            keys = objects.list_keys(settings().data_bucket, self._prefix(run, side))
            tables = read_shuffle(keys, bucket)
            sides[side] = pa.concat_tables(tables) if tables else empty_side(schemas[side])
        joined = _joined(run, sides, kinds)
        if joined.num_rows == 0 and bucket != 0:
            return StepResult(index=bucket)
        return StepResult(
            index=bucket, written=[write_part(bucket, run.output.part(bucket), joined)]
        )

    def finish(
        self, run: OperationRun, parts: list[StepResult], buckets: list[StepResult]
    ) -> Finished:
        """The output parts: the broadcast parts' or the buckets', in their order."""
        steps = [*sorted(parts, key=lambda p: p.index), *sorted(buckets, key=lambda b: b.index)]
        return Finished(parts=[w for step in steps for w in step.written])


def _joined(run: OperationRun, sides: dict[str, pa.Table], kinds: list[Any]) -> pa.Table:
    """The run's join of ``sides`` (each side's rows, by ``SIDES``)."""
    return join_bucket(
        sides["left"],
        sides["right"],
        run.inputs["on"],
        _right_on(run.inputs),
        run.inputs["how"],
        kinds,
        run.inputs["suffix"],
    )


@lru_cache(maxsize=1)
def _whole_side(keys: tuple[str, ...], columns: tuple[str, ...]) -> pa.Table:
    """The broadcast side's rows (its typed columns), read once per warm sandbox: the part
    steps of one join that a Lambda sandbox serves one after another share it."""
    tables = [read_part(key, list(columns)) for key in keys]
    return pa.concat_tables(tables, promote_options="permissive") if tables else pa.table({})


@lru_cache(maxsize=1)
def _small_keys(
    keys: tuple[str, ...], columns: tuple[str, ...], column: str, kind: ColumnType
) -> np.ndarray:
    """The broadcast side's non-null keys of ``column`` as compared, as sorted int64s
    (once per warm sandbox, as the side itself)."""
    whole = _whole_side(keys, columns)
    if not whole.num_rows:
        return np.array([], dtype=np.int64)
    return sorted_keys(whole.column(column).cast(compare_type(kind)))
