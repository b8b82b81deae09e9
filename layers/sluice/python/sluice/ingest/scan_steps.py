"""The first steps of the ingest state machine (statemachines/ingest_dataset.asl.json).

runs (on_upload, start_run) -> plan -> scan chunks (each also hashing its blocks) ->
reconcile -> rescan, then decide_step (decide) and convert_step (convert, finish). Each
function takes and returns the payload models; handlers only parse and dump.
"""

from __future__ import annotations

import functools

import pyarrow as pa

from sluice.config import Settings, settings
from sluice.csv.dialect import resolve
from sluice.csv.quoting import Transfer
from sluice.csv.ranges import ByteRange, balanced_chunk_bytes, plan_ranges
from sluice.csv.scan import HEAD_BYTES, SCAN_OVERFLOW, read_header, scan_range
from sluice.datasets import content_hash
from sluice.datasets.models import Dataset, DatasetChanges, DatasetStatus
from sluice.datasets.repository import DatasetRepository
from sluice.datasets.workspace import Workspace
from sluice.inference.column_parse import ColumnParse
from sluice.inference.conversion import convert_table
from sluice.inference.scan_evidence import Evidence, with_evidence
from sluice.inference.schema import ChunkStats
from sluice.inference.statistics import chunk_stats_and_parses, na_values_for
from sluice.inference.statistics import decide as decide_schema
from sluice.inference.types import ColumnType
from sluice.ingest.models import (
    ChunkItem,
    ChunkResult,
    DatasetRef,
    HeaderNames,
    IngestInput,
    Plan,
    Reconciled,
    Rescans,
    ScanBatch,
    ScanInput,
    column_plans,
)
from sluice.ingest.parts import PartOrigin, plan_digest, store_part
from sluice.ingest.runs import Superseded
from sluice.ingest.scan_groups import ScanContext
from sluice.store import map_results, objects
from sluice.store.map_results import (
    ItemsRef,
    ResultWriterDetails,
    batch_for,
    dealt,
    map_concurrency,
    put_items,
)


def plan(cfg: Settings, repo: DatasetRepository, payload: IngestInput) -> Plan:
    """Read the header, work out the dialect (the dataset's settings, else sniffed from
    the head), and split the rest of the object into chunk ranges."""
    obj, ref = payload.object, payload.dataset
    head = objects.read_range(obj.bucket, obj.key, 0, min(obj.size, HEAD_BYTES))
    declared = repo.get(ref.owner, ref.id).settings
    dialect = resolve(
        head, len(head) >= obj.size, declared.delimiter, declared.quote, declared.decimal
    )
    header = read_header(head, obj.size, dialect)
    chunk_bytes = balanced_chunk_bytes(
        obj.size, cfg.chunk_bytes, cfg.workers, content_hash.BLOCK_BYTES
    )
    ranges = plan_ranges(header.data_start, obj.size, chunk_bytes)
    dataset = repo.update(
        ref.owner,
        ref.id,
        DatasetChanges(
            status=DatasetStatus.INFERRING,
            chunk_count=len(ranges),
            chunks_done=0,
            dialect=dialect,
        ),
        only_if_run=ref.run,
    )
    if dataset is None:
        raise Superseded(f"run {ref.run} is no longer the dataset's current run")
    names = HeaderNames(columns=header.columns, notes=header.notes)
    workspace = Workspace(ref.owner, ref.id, ref.run)
    objects.put_json(cfg.data_bucket, workspace.header, names)
    # The first range starts right after the header, outside quotes by construction.
    chunks = [
        ChunkItem(index=r.index, start=r.start, end=r.end, parity=0 if r.index == 0 else None)
        for r in ranges
    ]
    concurrency = map_concurrency(cfg)
    batch = batch_for([c.end - c.start for c in chunks], concurrency)
    # The chunks go to S3 for the Distributed Map's ItemReader, not into the state (256 KB).
    items = ItemsRef(bucket=cfg.data_bucket, key=f"{workspace.work}chunks.json")
    put_items(items, scan_order(chunks, batch))
    return Plan(
        object=obj,
        column_count=len(header.columns),
        na_values=na_values_for(dataset.settings),
        max_categories=dataset.settings.max_categories,
        data_start=header.data_start,
        header_newlines=header.newlines,
        dialect=dialect,
        chunk_count=len(chunks),
        items=items,
        batch=batch,
        concurrency=concurrency,
        results=results_prefix(workspace),
    )


def results_prefix(workspace: Workspace) -> str:
    """Where the run's Distributed Maps write their results (one folder per Map Run)."""
    return f"{workspace.work}maps/"


def scan_order(chunks: list[ChunkItem], batch: int) -> list[ChunkItem]:
    """The chunks as the scans take them: the last range first, so that where scans
    queue for workers the first ranges are scanned last, with what the others found
    (late decimals, words, dates) in hand (sluice.inference.scan_evidence). The
    ItemBatcher cuts the list into consecutive batches of ``batch``, each scanned in order
    by one invocation, all at once: so the ranges are dealt from the end to the batches
    in turn (``map_results.dealt``), and every invocation scans its first ranges last."""
    return dealt(list(reversed(chunks)), batch)


def load_header(bucket: str, key: str) -> HeaderNames:
    """The header names Plan stored at ``key`` (a run's are written once: a warm Lambda
    scanning another chunk of the run reads them again from memory)."""
    return _header(bucket, key)


@functools.lru_cache(maxsize=8)
def _header(bucket: str, key: str) -> HeaderNames:
    return HeaderNames.model_validate_json(objects.get_bytes(bucket, key))


def scan_chunk(context: ScanContext, payload: ScanInput) -> ChunkResult:
    """Count the records of one range (guessing its quote parity if not given), hash its
    blocks and write its typed part; its type statistics go to ``context``, which stores
    them with its group's, with the group's evidence and progress, once the group's last
    chunk is scanned."""
    obj, chunk = payload.object, payload.chunk
    hashed_from, hashed_to = content_hash.owned_blocks(
        chunk.index, chunk.start, chunk.end, obj.size
    )
    # One GET for the range, the bytes past it that end its last record or block, and
    # (for the first chunk) the header's block; none where the batch read its bytes.
    fetched_from = min(max(chunk.start - 1, 0), hashed_from)
    fetched_to = max(min(obj.size, chunk.end + SCAN_OVERFLOW), hashed_to)
    fetched = context.read(obj, fetched_from, fetched_to)

    def read(start: int, end: int) -> bytes:
        if (start, end) == (fetched_from, fetched_to):
            return fetched
        if fetched_from <= start and end <= fetched_to:
            return fetched[start - fetched_from : end - fetched_from]
        return context.read(obj, start, end)

    # The digests travel in the result (32 bytes a 4 MiB block): Decide joins them.
    digests = content_hash.block_digests(
        memoryview(fetched)[hashed_from - fetched_from : hashed_to - fetched_from]
    )
    rng = ByteRange(chunk.index, chunk.start, chunk.end)
    scan = scan_range(
        read,
        rng,
        obj.size,
        load_header(context.bucket, context.workspace.header).columns,
        chunk.parity,
        SCAN_OVERFLOW,
        payload.na_values,
        payload.dialect,
    )
    result = ChunkResult.model_validate(scan, from_attributes=True)
    result.digests = digests.hex()
    # The reader's texts come in blocks (csv.scan); statistics and conversion each read
    # a column as one array, so each column is joined once here, not once by each (the
    # 10,000-song file's titles: 30 MB a chunk copied twice).
    texts = None if scan.table is None else scan.table.combine_chunks()
    del scan  # its blocks: the joined texts are all that is read from here on
    if texts is not None:
        stats, parses = chunk_stats_and_parses(
            texts, payload.max_categories, payload.dialect.decimal
        )
        evidence = context.evidence()
        _store_typed_part(context.dataset, evidence, payload, texts, stats, parses, result)
        result.stats = context.scanned(chunk.index, stats)
    context.done(chunk.index)
    return result


def scan_batch(repo: DatasetRepository, batch: ScanBatch) -> list[ChunkResult]:
    """Scan the chunks of one ItemBatcher batch, one after the other, in their order,
    storing what they learned once a group of them (``scan_groups``)."""
    scans = batch.scans()
    context = ScanContext.start(repo, batch.BatchInput.dataset, settings().data_bucket, scans)
    return [scan_chunk(context, payload) for payload in scans]


def rescans(ref: DatasetRef, reconciled: Reconciled) -> Rescans:
    """The chunks to scan again, written to S3 for RescanChunks (usually none)."""
    cfg = settings()
    items = ItemsRef(
        bucket=cfg.data_bucket, key=f"{Workspace(ref.owner, ref.id, ref.run).work}rescans.json"
    )
    put_items(items, reconciled.redo)
    concurrency = map_concurrency(cfg)
    return Rescans(
        items=items,
        count=len(reconciled.redo),
        batch=batch_for([c.end - c.start for c in reconciled.redo], concurrency),
        concurrency=concurrency,
    )


def scanned_chunks(details: ResultWriterDetails) -> list[ChunkResult]:
    """Every chunk's scan, in order, from the results ScanChunks' ResultWriter wrote
    (each child's output is its batch's list of results)."""
    found = [
        ChunkResult.model_validate(result)
        for output in map_results.outputs(details)
        for result in output
    ]
    return sorted(found, key=lambda chunk: chunk.index)


def _store_typed_part(
    dataset: Dataset,
    evidence: Evidence,
    payload: ScanInput,
    texts: pa.Table,
    stats: ChunkStats,
    parses: dict[str, ColumnParse],
    result: ChunkResult,
) -> None:
    """Write the scanned records typed now, from the texts and parses in hand (most
    chunks' types are the file's, and Decide keeps such a part), and note the part and
    its plan in ``result``. The types come from the chunk's own statistics and the
    counts the scans before it left (``evidence``)."""
    hinted = with_evidence(stats, evidence)
    plans = column_plans(decide_schema(hinted, dataset.settings, dataset.preferred_types))
    typed, exceptions = convert_table(texts, plans, parses, payload.dialect.decimal)
    # A text column kept as texts and parsed on its distinct texts is already a
    # dictionary of them: the part's writer takes it as it is (parts._write_encoded).
    encoded = {
        plan.name: found
        for plan in plans
        if plan.type is ColumnType.STRING
        and plan.name in parses
        and (found := parses[plan.name].encoded()) is not None
    }
    origin = PartOrigin(
        object_key=payload.object.key,
        first=result.first,
        last=result.last,
        na_values=payload.na_values,
        columns=plans,
        dialect=payload.dialect,
    )
    result.part = store_part(
        payload.dataset, payload.chunk.index, typed, exceptions, origin, encoded
    )
    result.part_plan = plan_digest(plans)


def reconcile(chunks: list[ChunkResult]) -> Reconciled:
    """Work out each range's true quote parity from the counts of the ranges before it,
    and list the ranges whose guess was wrong so they are scanned again."""
    redo: list[ChunkItem] = []
    parity = 0
    for chunk in sorted(chunks, key=lambda c: c.index):
        if chunk.parity != parity:
            redo.append(
                ChunkItem(index=chunk.index, start=chunk.start, end=chunk.end, parity=parity)
            )
        parity = quote_transfer(chunk).after(parity)
    return Reconciled(redo=redo)


def quote_transfer(chunk: ChunkResult) -> Transfer:
    """What a scanned range's quotes do to the quote state at its start."""
    return Transfer(chunk.quotes_reset, chunk.quotes % 2)
