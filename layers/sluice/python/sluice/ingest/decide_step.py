"""Ingest step: merge the chunks' statistics and decide each column's type."""

from __future__ import annotations

from operator import attrgetter

from sluice.config import settings
from sluice.csv.ranges import CsvError
from sluice.datasets import columns as column_store
from sluice.datasets import content_hash, duplicates
from sluice.datasets.models import DatasetChanges
from sluice.datasets.repository import DatasetRepository
from sluice.datasets.workspace import Workspace
from sluice.inference.schema import ChunkStats, ColumnStats
from sluice.inference.statistics import decide as decide_schema
from sluice.inference.statistics import merge_stats
from sluice.ingest.models import (
    ChunkResult,
    Converted,
    DatasetRef,
    Decided,
    DecideInput,
    Gathered,
    Span,
    column_plans,
)
from sluice.ingest.parts import plan_digest
from sluice.ingest.runs import Superseded
from sluice.ingest.scan_groups import load_stats
from sluice.ingest.scan_steps import load_header, quote_transfer, results_prefix, scanned_chunks
from sluice.store import objects
from sluice.store.map_results import ItemsRef, batch_for, map_concurrency, put_items

NOT_UTF8_REMEDY = (
    'start the inference again with the file\'s encoding ("encoding": "cp1252", say), '
    "or save the file as UTF-8 and upload it again"
)
"""What to do about text that is not UTF-8: the upload stays the dataset's source, so a
declared encoding reads it again without sending it again."""


def first_problem(header_newlines: int, chunks: list[ChunkResult]) -> str | None:
    """The first bad line of the file, in words, or None when every record is well formed."""
    ragged = sum(c.ragged for c in chunks)
    newlines = header_newlines
    for chunk in chunks:
        candidates: list[tuple[int, str]] = []
        if chunk.ragged_rows:
            row = chunk.ragged_rows[0]
            more = f" ({ragged} rows in all have the wrong number of fields)" if ragged > 1 else ""
            candidates.append(
                (
                    row.newlines_before,
                    f"expected {row.expected} field{'s' if row.expected != 1 else ''} "
                    "like the header, "
                    f"found {row.actual}: {row.text[:80]!r}{more}",
                )
            )
        if chunk.invalid_text:
            candidates.append(
                (
                    chunk.invalid_text.newlines_before,
                    f"the text is not valid UTF-8 (byte {chunk.invalid_text.byte}); "
                    + NOT_UTF8_REMEDY,
                )
            )
        if candidates:
            before, message = min(candidates)
            return f"line {newlines + before + 1}: {message}"
        newlines += chunk.newlines
    state = 0
    for chunk in sorted(chunks, key=lambda c: c.index):
        state = quote_transfer(chunk).after(state)
    if state:
        return "the file ends inside a quoted field: a quote is never closed"
    return None


def conversion_batch(chunks: list[ChunkResult], spans: list[Span], concurrency: int) -> int:
    """Spans per ConvertChunks child, by the bytes of the chunks they convert (a span's
    ``first`` and ``last`` count records, not bytes)."""
    size = {chunk.index: chunk.end - chunk.start for chunk in chunks}
    return batch_for([size[span.index] for span in spans], concurrency)


def _merged_stats(names: list[str], chunks: list[ChunkResult], max_categories: int) -> ChunkStats:
    """Every chunk's statistics, merged: one GET a group of a batch's chunks (scan_groups)."""
    stored = [(c.index, c.stats) for c in chunks if c.last > c.first and c.stats is not None]
    parts = load_stats(settings().data_bucket, stored)
    if not parts:  # a header and no rows
        return ChunkStats(rows=0, columns=[ColumnStats(name=name) for name in names])
    return merge_stats(parts, max_categories)


def _content_hash(ingest: Gathered) -> str:
    """The object's content hash from the digests its chunk scans returned, in order."""
    obj = ingest.plan.object
    if not ingest.chunks:  # a header and no records: nothing was scanned
        return content_hash.content_hash(objects.read_range(obj.bucket, obj.key, 0, obj.size))
    in_order = sorted(ingest.chunks, key=attrgetter("index"))
    return content_hash.joined_hash(b"".join(bytes.fromhex(c.digests) for c in in_order))


def decide(repo: DatasetRepository, payload: DecideInput) -> Decided:
    """Merge (or, re-converting, reload) the stats, decide the schema, and say how to convert."""
    ref, ingest = payload.dataset, payload.ingest
    bucket = settings().data_bucket
    stats_space = Workspace(ref.owner, ref.id, payload.stats_run)
    dataset = repo.get(ref.owner, ref.id)
    if payload.mode == "reconvert" and not ingest.chunks:
        ingest = load_layout(ref, payload.stats_run, keep_chunks=True)
    if ingest.scanned is not None:
        # The scans' results are in S3 (the ResultWriters of ScanChunks and RescanChunks),
        # not in the state; the stored layout holds them, for a re-convert.
        rescanned = ingest.rescanned
        if ingest.rescanned_at is not None:
            rescanned = scanned_chunks(ingest.rescanned_at)
        ingest = ingest.model_copy(
            update={
                "chunks": scanned_chunks(ingest.scanned),
                "scanned": None,
                "rescanned": rescanned,
                "rescanned_at": None,
            }
        )
    chunks = ingest.final_chunks()
    header = load_header(bucket, stats_space.header)
    if payload.mode == "full":
        problem = first_problem(ingest.plan.header_newlines, chunks)
        if problem:
            raise CsvError(problem)
        digest = _content_hash(ingest)
        ingest = ingest.model_copy(update={"content_hash": digest})
        duplicates.claim(settings().table, ref.owner, ref.id, digest, dataset.allow_duplicate)
        merged = _merged_stats(header.columns, chunks, ingest.plan.max_categories)
        objects.put_json(bucket, stats_space.merged_stats, merged)
        objects.put_json(bucket, stats_space.layout, ingest)
    else:
        merged = ChunkStats.model_validate(objects.get_json(bucket, stats_space.merged_stats))
    if ingest.content_hash is None:
        raise ValueError(f"the layout of run {payload.stats_run} has no content hash")
    schema = decide_schema(merged, dataset.settings, dataset.preferred_types)
    by_name = {column.name: column for column in schema} if header.notes else {}
    for name, notes in header.notes.items():  # a name the header did not give, say so
        by_name[name].notes = [*notes, *by_name[name].notes]
    # Beside the typed parts, not in the record or the payloads: a wide file's columns
    # are megabytes. ConvertChunk and Finish read them from there.
    column_store.store(bucket, Workspace(ref.owner, ref.id, ref.run).columns, schema)
    plans = column_plans(schema)
    adopted: list[Converted] = []
    if payload.mode == "full":
        # A part the scan wrote with exactly these types is final; the rest are converted
        # again from the scan's part, re-reading only the columns whose type differs.
        digest = plan_digest(plans)
        adopted = [c.part for c in chunks if c.part is not None and c.part_plan == digest]
        bases = {c.index: c.part.key for c in chunks if c.part is not None}
    elif dataset.data_run is not None:
        # Re-converting: the dataset's current parts came from these records (their
        # notes of origin say whether they did).
        data = Workspace(ref.owner, ref.id, dataset.data_run)
        bases = {c.index: data.part(c.index) for c in chunks}
    else:
        bases = {}
    kept = {part.index for part in adopted}
    spans = [
        Span(index=c.index, first=c.first, last=c.last, base=bases.get(c.index))
        for c in chunks
        if c.last > c.first and c.index not in kept
    ]
    updated = repo.update(
        ref.owner,
        ref.id,
        DatasetChanges(pending_column_count=len(schema), stats_run=payload.stats_run),
        add_parts_done=len(adopted),
        only_if_run=ref.run,
    )
    if updated is None:
        raise Superseded(f"run {ref.run} is no longer the dataset's current run")
    # The spans and the adopted parts go to S3, not into the state (one a chunk: 256 KB
    # would hold about a thousand): ConvertChunks reads the spans, Finish both.
    run_space = Workspace(ref.owner, ref.id, ref.run)
    cfg = settings()
    items = ItemsRef(bucket=bucket, key=f"{run_space.work}spans.json")
    put_items(items, spans)
    adopted_items = ItemsRef(bucket=bucket, key=f"{run_space.work}adopted.json")
    put_items(adopted_items, adopted)
    concurrency = map_concurrency(cfg)
    return Decided(
        na_values=ingest.plan.na_values,
        items=items,
        span_count=len(spans),
        batch=conversion_batch(chunks, spans, concurrency),
        concurrency=concurrency,
        results=results_prefix(run_space),
        adopted=adopted_items,
        content_hash=ingest.content_hash,
    )


def load_layout(ref: DatasetRef, stats_run: str, keep_chunks: bool = False) -> Gathered:
    """What an earlier run's scans learned, to re-convert without scanning again: for the
    state, all but the chunks (Decide reads them from the layout itself)."""
    key = Workspace(ref.owner, ref.id, stats_run).layout
    layout = Gathered.model_validate(objects.get_json(settings().data_bucket, key))
    if keep_chunks:
        return layout
    plan = layout.plan.model_copy(update={"chunks": []})
    return layout.model_copy(update={"plan": plan, "chunks": [], "rescanned": []})
