"""Ingest steps: convert each chunk to typed Parquet, then record the finished dataset."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import PurePosixPath

import pyarrow as pa

from sluice.config import settings
from sluice.csv.dialect import Dialect
from sluice.csv.ranges import CsvError
from sluice.csv.scan import parse_native, parse_text
from sluice.datasets import columns as column_store
from sluice.datasets import query_tables
from sluice.datasets.duplicates import DuplicateContent
from sluice.datasets.manifest import Manifest, ManifestColumn, Part
from sluice.datasets.models import DatasetChanges, DatasetStatus, ErrorInfo, utcnow
from sluice.datasets.repository import DatasetRepository
from sluice.datasets.workspace import Workspace, dataset_prefixes
from sluice.inference.column_reconversion import RowsDiffer, changed_columns, reconvert
from sluice.inference.conversion import (
    EXCEPTIONS,
    FALSE_SPELLINGS,
    TRUE_SPELLINGS,
    convert_table,
    may_hold_rounded_integers,
    native_types,
)
from sluice.inference.schema import ColumnSchema
from sluice.ingest.models import (
    ColumnPlan,
    ConvertBatch,
    Converted,
    ConvertInput,
    DatasetRef,
    FailInput,
    FinishInput,
    Outcome,
    StepError,
    column_plans,
)
from sluice.ingest.parts import PartOrigin, load_part, store_part
from sluice.ingest.runs import Superseded
from sluice.ingest.scan_steps import results_prefix
from sluice.step_errors import step_failure
from sluice.store import map_results, objects
from sluice.store.map_results import THRESHOLD_EXCEEDED


def convert_batch(repo: DatasetRepository, batch: ConvertBatch) -> list[Converted]:
    """Convert the spans of one ItemBatcher batch, one after the other."""
    return [convert_chunk(repo, payload) for payload in batch.conversions()]


def convert_chunk(repo: DatasetRepository, payload: ConvertInput) -> Converted:
    """Parse one chunk's records, convert them to the decided types, write a Parquet part:
    from a part already made from those records, only the columns whose type changed."""
    obj, span, ref = payload.object, payload.span, payload.dataset
    plans = _decided_plans(settings().data_bucket, Workspace(ref.owner, ref.id, ref.run).columns)
    names = [plan.name for plan in plans]
    origin = PartOrigin(
        object_key=obj.key,
        first=span.first,
        last=span.last,
        na_values=payload.na_values,
        columns=plans,
        dialect=payload.dialect,
    )
    body = objects.read_range(obj.bucket, obj.key, span.first, span.last)
    reused = _from_base(span.base, origin, body, names) if span.base else None
    typed, exceptions = reused or _convert(
        body,
        names,
        payload.na_values,
        plans,
        lambda texts: convert_table(texts, plans, decimal=payload.dialect.decimal),
        payload.dialect,
    )
    converted = store_part(ref, span.index, typed, exceptions, origin)
    repo.update(ref.owner, ref.id, DatasetChanges(), add_parts_done=1, only_if_run=ref.run)
    return converted


@functools.lru_cache(maxsize=8)
def _decided_plans(bucket: str, key: str) -> list[ColumnPlan]:
    """The types Decide stored for the run, in the header's order (written once a run: a
    warm Lambda converting another of its chunks keeps them)."""
    return column_plans(_decided(bucket, key))


def _decided(bucket: str, key: str) -> list[ColumnSchema]:
    stored = column_store.load(bucket, key)
    if stored is None:
        raise ValueError(f"no columns decided at {key}")
    return stored.all()


def _convert(
    body: bytes,
    names: list[str],
    na_values: list[str],
    plans: list[ColumnPlan],
    typed: Callable[[pa.Table], tuple[pa.Table, int]],
    dialect: Dialect,
) -> tuple[pa.Table, int]:
    """``typed`` applied to the records' ``plans`` columns: the part and its exceptions."""
    wanted = [plan.name for plan in plans]
    try:
        # Fast path: pyarrow parses the numbers and booleans itself; any value it cannot
        # read (an exception to keep, a spelling it does not know) sends the whole chunk
        # down the text path, which keeps failing values' texts. So does a float that may
        # be an integer float64 rounded, which pyarrow reads without a word.
        native = parse_native(
            body,
            names,
            na_values,
            native_types(plans),
            TRUE_SPELLINGS,
            FALSE_SPELLINGS,
            include=wanted,
            dialect=dialect,
        )
        if not may_hold_rounded_integers(native, plans):
            return typed(native)
    except pa.ArrowInvalid:
        pass
    return typed(parse_text(body, names, na_values, include=wanted, dialect=dialect))


def _from_base(
    base: str, origin: PartOrigin, body: bytes, names: list[str]
) -> tuple[pa.Table, int] | None:
    """The part ``origin`` describes, made from the part at ``base``, converting only the
    columns whose type differs; None when ``base`` is gone or came from other records."""
    loaded = load_part(base)
    if loaded is None:
        return None
    part, written = loaded
    changed = changed_columns(written.columns, origin.columns)
    if changed is None or not written.same_records(origin):
        return None
    kept = [plan.name for plan in origin.columns if plan.name not in changed]
    table = part.read(columns=[*kept, EXCEPTIONS])
    if not changed:
        return table, len(table.column(EXCEPTIONS).combine_chunks().keys)
    retyped = [plan for plan in origin.columns if plan.name in changed]
    try:
        return _convert(
            body,
            names,
            origin.na_values,
            retyped,
            lambda texts: reconvert(table, texts, origin.columns, changed, origin.dialect.decimal),
            origin.dialect,
        )
    except RowsDiffer:
        return None


def finish(repo: DatasetRepository, payload: FinishInput) -> Outcome:
    """Write the manifest of typed parts and record the dataset as ready."""
    ref = payload.dataset
    dataset = repo.get(ref.owner, ref.id)
    bucket = settings().data_bucket
    workspace = Workspace(ref.owner, ref.id, ref.run)
    columns = _decided(bucket, workspace.columns)
    parts, first_row = [], 0
    # The parts converted (ConvertChunks' results, in S3) and those kept as the scans
    # wrote them (Decide's list, in S3): neither travels in the state.
    written = [
        Converted.model_validate(part)
        for output in map_results.outputs(payload.converted)
        for part in output
    ] + [
        Converted.model_validate(part)
        for part in objects.get_json(payload.adopted.bucket, payload.adopted.key)
    ]
    for part in sorted(written, key=lambda c: c.index):
        parts.append(Part(key=part.key, first_row=first_row, rows=part.rows, bytes=part.bytes))
        first_row += part.rows
    typed = [ManifestColumn(name=c.name, effective_type=c.effective_type) for c in columns]
    manifest = Manifest(run=ref.run, row_count=first_row, columns=typed, parts=parts)
    objects.put_json(bucket, workspace.manifest, manifest)
    source = payload.ingest.plan.object
    # The table is written before the record says ready, in the same write as the run:
    # whoever sees the dataset ready sees its table (or why it has none).
    registered = query_tables.register(dataset, manifest)
    registration, removed = registered.changes()
    done = repo.update(
        ref.owner,
        ref.id,
        DatasetChanges(
            status=DatasetStatus.READY,
            progress=1.0,
            row_count=first_row,
            size_bytes=source.size,
            content_hash=payload.content_hash,
            column_count=len(columns),
            column_preview=column_store.preview(columns),
            exception_count=sum(c.exceptions for c in written),
            data_run=ref.run,
            ingest_finished_at=utcnow(),
            **registration,
        ),
        remove=("error", "pending_column_count", *removed),
        only_if_run=ref.run,
    )
    if done is not None:
        # The upload stays (a re-inference prepares it again); a copy the run decompressed
        # or transcoded lies in its work folder, kept with the run.
        # An open ticket's file may be landing now (its run takes the dataset next): kept.
        pending = {name for name, ticket in done.upload_tickets.items() if ticket.used is None}
        remove_superseded(
            ref,
            keep_runs={ref.run, done.stats_run or ref.run},
            keep_upload=dataset.source.key,
            open_uploads=pending,
        )
    elif registered.query_table is not None:
        query_tables.follow_record(repo, ref.owner, ref.id, registered.query_table)
    return Outcome(status="ready", row_count=first_row)


def remove_superseded(
    ref: DatasetRef,
    keep_runs: set[str],
    keep_upload: str,
    open_uploads: frozenset[str] | set[str] = frozenset(),
) -> None:
    """Delete earlier uploads and the work and parts of runs no longer needed; the files of
    ``open_uploads`` (tickets not used yet, whose file may have just landed) stay."""
    cfg = settings()
    upload_prefix = f"uploads/{ref.owner}/{ref.id}/"
    for key in objects.list_keys(cfg.upload_bucket, upload_prefix):
        if key != keep_upload and PurePosixPath(key).stem not in open_uploads:
            objects.delete_every_version(cfg.upload_bucket, key)
    for prefix in dataset_prefixes(ref.owner, ref.id):
        for folder in objects.list_folders(cfg.data_bucket, prefix):
            if folder[len(prefix) :].rstrip("/") not in keep_runs:
                objects.delete_prefix(cfg.data_bucket, folder)


def _remove_unfinished_parts(repo: DatasetRepository, ref: DatasetRef) -> None:
    """The parts a failed run's scans and conversions wrote: never the dataset's data."""
    dataset = repo.find(ref.owner, ref.id)
    if dataset is not None and dataset.ingest_run == ref.run and dataset.data_run != ref.run:
        workspace = Workspace(ref.owner, ref.id, ref.run)
        objects.delete_prefix(settings().data_bucket, workspace.data)
        if dataset.stats_run != ref.run:  # no re-convert reads this run's prepared copy
            objects.delete_object(settings().data_bucket, workspace.source)


def _record_duplicate(repo: DatasetRepository, ref: DatasetRef, message: str) -> Outcome:
    holder = message.rsplit(" ", 1)[-1]
    repo.update(
        ref.owner,
        ref.id,
        DatasetChanges(
            status=DatasetStatus.DUPLICATE,
            duplicate_of=holder,
            error=ErrorInfo(code="duplicate", message=message),
            ingest_finished_at=utcnow(),
        ),
        remove=("pending_column_count",),
        only_if_run=ref.run,
    )
    return Outcome(status="duplicate", duplicate_of=holder)


def _failed_chunk(ref: DatasetRef) -> StepError | None:
    """The error of the first chunk (by position in the file) whose child execution
    failed in one of the run's Distributed Maps, from what their ResultWriters wrote."""
    workspace = Workspace(ref.owner, ref.id, ref.run)
    first = map_results.first_failure(settings().data_bucket, results_prefix(workspace), "index")
    return None if first is None else StepError(Error=first.Error, Cause=first.Cause)


def fail(repo: DatasetRepository, payload: FailInput) -> Outcome:
    """Record why the execution failed, in words a user can act on: a chunk's own error
    where a Map failed because one of its chunks did."""
    caught = payload.error
    if caught.Error == THRESHOLD_EXCEEDED:
        caught = _failed_chunk(payload.dataset) or caught
    failure = step_failure(caught.Error, caught.Cause)
    message = failure.message
    if failure.type == Superseded.__name__:
        return Outcome(status="superseded")
    _remove_unfinished_parts(repo, payload.dataset)
    if failure.type == DuplicateContent.__name__:
        return _record_duplicate(repo, payload.dataset, message)
    code = "invalid_csv" if failure.type == CsvError.__name__ else "ingest_failed"
    ref, error = payload.dataset, ErrorInfo(code=code, message=message)
    repo.update(
        ref.owner,
        ref.id,
        DatasetChanges(
            status=DatasetStatus.FAILED,
            error=error,
            ingest_finished_at=utcnow(),
        ),
        remove=("pending_column_count",),
        only_if_run=ref.run,
    )
    return Outcome(status="failed", error=error)
