"""Ingest step, before the plan: make the upload UTF-8 CSV text.

A gzip, bzip2, zstd or zip upload (told by its first bytes, whatever it was called) is
decompressed, and UTF-16 text (told by its byte-order mark) or text in the encoding the
dataset's settings declare is transcoded, and text whose lines end with a carriage
return alone gets line feeds (``csv.line_breaks``), in one streaming pass, into
``work/<owner>/<id>/<run>/source.csv`` in the data bucket, written in 64 MiB parts; the
run reads that copy from the plan on (the dataset's ``source`` stays the upload, so a
re-inference prepares it again with the settings of its day). A plain UTF-8 upload with
line feeds is left where it is. A file that is no text fails, with what it looks like.

One invocation decompresses about 300 MB/s of gzip or zstd output and 45 MB/s of bzip2
on one core (decompression alone, measured locally; not yet measured on Lambda with its
S3 reads and writes), so within Lambda's 15 minutes it handles about 200 GB of gzip or
zstd text and 35 GB of bzip2. A compressed upload that may hold more
(``LAMBDA_PREPARE_BYTES``) is prepared by the preparer's Fargate task instead, which has
no time limit: the step answers where to run it, the state machine runs it
(``ecs:runTask.sync``, ``sluice.ingest.prepare_task``), and the step then collects the
copy, or the task's reason for failing, from ``prepared.json`` in the run's work folder.
"""

from __future__ import annotations

import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pyarrow as pa
from aws_lambda_powertools import Logger
from pydantic import BaseModel

from sluice.catalog import PREPARER
from sluice.config import Settings
from sluice.csv.dialect import sniff
from sluice.csv.line_breaks import cr_line_breaks, lf_line_breaks
from sluice.csv.ranges import CsvError
from sluice.csv.source_format import (
    COMPRESSION_NAMES,
    SNIFF_BYTES,
    Compression,
    check_text,
    compression_of,
    encoding_of,
    read_head,
    transcoded,
)
from sluice.datasets.models import DatasetChanges
from sluice.datasets.repository import DatasetRepository, preparing_progress
from sluice.datasets.workspace import Workspace
from sluice.inference.schema import InferenceSettings
from sluice.ingest.models import (
    IngestInput,
    ObjectRef,
    Preparation,
    PrepareInput,
)
from sluice.ingest.runs import Superseded
from sluice.store import objects, streams
from sluice.task_placement import placement, stopped_task

logger = Logger(service="sluice")

BLOCK_BYTES = 8 * 1024 * 1024
"""How much decompressed text one read takes."""

PROGRESS_SECONDS = 2.0
"""At most one progress write to the dataset this often."""

GB = 1000**3
LAMBDA_PREPARE_BYTES: dict[Compression, int] = {
    "gzip": 20 * GB,
    "zstd": 20 * GB,
    "zip": 20 * GB,
    "bz2": 2 * GB,
}
"""The largest compressed upload one invocation prepares: 10 of its 15 minutes at the
rates above (gzip or zstd text 300 MB/s, bzip2 45 MB/s) for CSV compressed 9x, more than
most CSV compresses. A larger one goes to the preparer's task (``SLUICE_PREPARE_TASK_BYTES``
sets one limit for every kind)."""

_ARROW_CODECS: dict[Compression, str] = {"gzip": "gzip", "bz2": "bz2", "zstd": "zstd"}

# Members of a zip that say it is an Office or OpenDocument file, not an archive of a CSV.
_ZIPPED_FORMATS = (
    ("xl/", "an Excel workbook (.xlsx): save it as CSV"),
    ("word/", "a Word document (.docx)"),
    ("ppt/", "a PowerPoint presentation (.pptx)"),
    ("mimetype", "an OpenDocument file (.ods, .odt)"),
)


@dataclass
class _Source:
    """Decompressed bytes, and how far into the upload they have read."""

    blocks: Iterator[bytes]
    position: Callable[[], int]
    what: str  # "the gzip file", for messages


def prepare(cfg: Settings, repo: DatasetRepository, payload: PrepareInput) -> Preparation:
    """The Prepare step: the object the plan reads (the upload itself, or its copy made
    here), or where the preparer's task is to make the copy of a compressed upload too
    large for one invocation; after that task, the copy it made."""
    if payload.after_task:
        return Preparation(object=collect(cfg, payload))
    obj = payload.object
    if obj.size == 0:
        raise CsvError("the file is empty")
    head = _head(obj)
    if obj.size > _lambda_budget(cfg, compression_of(head)):
        return Preparation(object=obj, task=placement("SLUICE_PREPARER_TASK_DEFINITION", PREPARER))
    return Preparation(object=prepare_copy(cfg, repo, payload, head))


def _head(obj: ObjectRef) -> bytes:
    """The upload's first bytes: what its compression and encoding are told by."""
    return objects.read_range(obj.bucket, obj.key, 0, min(obj.size, SNIFF_BYTES))


def _lambda_budget(cfg: Settings, compression: Compression | None) -> float:
    """The largest upload of this kind one invocation prepares (no limit where none is
    needed: a plain or transcoded file is read at the speed it is written)."""
    if compression is None:
        return float("inf")
    if cfg.prepare_task_bytes is not None:
        return cfg.prepare_task_bytes
    return LAMBDA_PREPARE_BYTES[compression]


class TaskOutcome(BaseModel):
    """What the preparer's task leaves in ``prepared.json``: its copy, or why it has none."""

    object: ObjectRef | None = None
    error: str | None = None


def collect(cfg: Settings, payload: PrepareInput) -> ObjectRef:
    """The copy the preparer's task made; its own reason (a CsvError) if it could not, or
    what its end says where it left nothing (killed, out of memory)."""
    ref = payload.dataset
    found = objects.find_bytes(cfg.data_bucket, Workspace(ref.owner, ref.id, ref.run).prepared)
    outcome = TaskOutcome.model_validate_json(found) if found else TaskOutcome()
    if outcome.error is not None:
        raise CsvError(outcome.error)
    if outcome.object is None or payload.task_error is not None:
        caught = payload.task_error or {}
        raise PrepareTaskFailed(
            "the preparer's task ended without a copy: "
            + task_ended(str(caught.get("Error", "")), caught.get("Cause"))
        )
    return outcome.object


class PrepareTaskFailed(Exception):
    """The preparer's task stopped before it could say why (its container killed)."""


def task_ended(error: str, cause: str | None) -> str:
    """A stopped preparer in words (``task_placement.stopped_task``), or the failure's own
    cause where it was no task's end (a timeout)."""
    return stopped_task(cause, "the preparer") or cause or error or "no reason given"


def prepare_copy(
    cfg: Settings, repo: DatasetRepository, payload: IngestInput, head: bytes | None = None
) -> ObjectRef:
    """The object the plan reads: the upload itself when it is UTF-8 CSV text already,
    else its decompressed or transcoded copy. ``head``: its first bytes, where the caller
    read them already."""
    obj, ref = payload.object, payload.dataset
    if obj.size == 0:
        raise CsvError("the file is empty")
    if head is None:
        head = _head(obj)
    dataset = repo.get(ref.owner, ref.id)
    compression = compression_of(head)
    if compression is None:
        encoding = encoding_of(head, dataset.settings.encoding)
        check_text(head, encoding)
        if encoding is None and not cr_line_breaks(head):
            return obj
        stream, position = streams.counted(streams.open_stream(obj.bucket, obj.key))
        source = _Source(_read_blocks(stream, "the file"), position, "the file")
    else:
        source = _decompressed(obj, compression)
        text_head, source.blocks = read_head(source.blocks)
        if not text_head:
            raise CsvError(f"{source.what} is empty")
        inner = compression_of(text_head)
        if inner is not None:
            raise CsvError(
                f"{source.what} holds a {COMPRESSION_NAMES[inner]} file: "
                "upload a CSV compressed once"
            )
        encoding = encoding_of(text_head, dataset.settings.encoding)
        check_text(text_head, encoding, f"{source.what}'s content")
    return _write_copy(cfg, repo, payload, source, encoding, compression, dataset.settings)


def _write_copy(
    cfg: Settings,
    repo: DatasetRepository,
    payload: IngestInput,
    source: _Source,
    encoding: str | None,
    compression: Compression | None,
    declared: InferenceSettings,
) -> ObjectRef:
    obj, ref = payload.object, payload.dataset
    blocks = transcoded(source.blocks, encoding) if encoding else source.blocks
    text_head, blocks = read_head(blocks)
    line_breaks = "cr" if cr_line_breaks(text_head) else None
    if line_breaks:
        delimiter, quote = _split_by(text_head, declared)
        blocks = lf_line_breaks(blocks, quote, delimiter)
    started = time.monotonic()
    written = 0
    last_report = started

    def counted() -> Iterator[bytes]:
        nonlocal written, last_report
        for block in blocks:
            written += len(block)
            if written > cfg.max_upload_bytes:
                raise CsvError(
                    f"{source.what} holds more than {cfg.max_upload_bytes} bytes of text; "
                    f"the limit is {cfg.max_upload_bytes} bytes"
                )
            now = time.monotonic()
            if now - last_report >= PROGRESS_SECONDS:
                last_report = now
                _report(repo, payload, source.position() / obj.size)
            yield block

    key = Workspace(ref.owner, ref.id, ref.run).source
    size, etag = streams.put_blocks(cfg.data_bucket, key, counted(), "text/csv")
    _report(repo, payload, 1.0)
    seconds = time.monotonic() - started
    logger.info(
        "prepared the upload",
        compression=compression,
        encoding=encoding,
        line_breaks=line_breaks,
        upload_bytes=obj.size,
        text_bytes=size,
        seconds=round(seconds, 3),
        text_mb_per_s=round(size / 1e6 / seconds, 1) if seconds else None,
    )
    return ObjectRef(bucket=cfg.data_bucket, key=key, size=size, etag=etag)


def _split_by(text_head: bytes, declared: InferenceSettings) -> tuple[str, str]:
    """(delimiter, quote) of a text whose lines end with CR alone: the declared ones, else
    sniffed from its head read with LF line breaks (a space-aligned file's quotes follow
    a space)."""
    at_eof = len(text_head) < SNIFF_BYTES
    return sniff(text_head.replace(b"\r", b"\n"), at_eof, declared.delimiter, declared.quote)


def _report(repo: DatasetRepository, payload: IngestInput, done: float) -> None:
    ref = payload.dataset
    changes = DatasetChanges(progress=preparing_progress(done))
    if repo.update(ref.owner, ref.id, changes, only_if_run=ref.run) is None:
        raise Superseded(f"run {ref.run} is no longer the dataset's current run")


def _read_blocks(stream: pa.NativeFile, what: str) -> Iterator[bytes]:
    """``stream``'s bytes, a block at a time; damaged compressed data fails saying so."""
    while True:
        try:
            block = stream.read(BLOCK_BYTES)
        except (pa.ArrowInvalid, OSError) as exc:
            raise CsvError(f"{what} is damaged and cannot be decompressed: {exc}") from exc
        if not block:
            return
        yield block


def _decompressed(obj: ObjectRef, compression: Compression) -> _Source:
    what = f"the {COMPRESSION_NAMES[compression]} file"
    if compression == "zip":
        return _zip_member(obj)
    raw, position = streams.counted(streams.open_stream(obj.bucket, obj.key))
    stream = pa.CompressedInputStream(raw, _ARROW_CODECS[compression])
    return _Source(_read_blocks(stream, what), position, what)


def _zip_member(obj: ObjectRef) -> _Source:
    """The one file of a zip archive, read through its directory (a few ranged GETs)."""
    file = streams.open_file(obj.bucket, obj.key)
    try:
        archive = zipfile.ZipFile(file)  # type: ignore[arg-type]  # a NativeFile is file-like
    except (zipfile.BadZipFile, OSError, pa.ArrowInvalid) as exc:
        raise CsvError(
            "the file starts like a zip archive but cannot be read as one "
            "(it is cut short or damaged)"
        ) from exc
    names = [info.filename for info in archive.infolist()]
    for marker, what in _ZIPPED_FORMATS:
        if any(name.startswith(marker) for name in names):
            raise CsvError(f"the file is not CSV text: it looks like {what}")
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir() and not info.filename.startswith("__MACOSX/")
    ]
    if len(members) != 1:
        listed = ", ".join(info.filename for info in members[:5])
        more = ", ..." if len(members) > 5 else ""
        holds = f"{len(members)} files ({listed}{more})" if members else "no file"
        raise CsvError(f"the zip archive holds {holds}: upload a zip of one CSV file")
    (member,) = members
    what = f"the zip archive's {member.filename!r}"
    if member.flag_bits & 0x1:
        raise CsvError(f"{what} is encrypted: upload it without a password")
    try:
        opened = archive.open(member)
    except NotImplementedError as exc:
        raise CsvError(f"{what} is compressed in a way sluice cannot read ({exc})") from exc

    def blocks() -> Iterator[bytes]:
        while True:
            try:
                block = opened.read(BLOCK_BYTES)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
                raise CsvError(f"{what} is damaged and cannot be decompressed: {exc}") from exc
            if not block:
                return
            yield block

    return _Source(blocks(), file.tell, what)
