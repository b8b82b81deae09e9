"""The steps of the ingest state machine (statemachines/ingest_dataset.asl.json).

on_upload -> plan -> [scan chunks || hash object] -> reconcile -> rescan -> finish.
Each function takes and returns the payload models; handlers only parse and dump.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger

from sluice import aws
from sluice.config import Settings
from sluice.datasets.models import DatasetStatus, SourceObject
from sluice.datasets.repository import DatasetRepository
from sluice.datasets.service import upload_prefix
from sluice.pipelines.ingest_models import (
    ChunkItem,
    ChunkResult,
    DatasetRef,
    FailInput,
    FinishInput,
    HashInput,
    IngestInput,
    ObjectRef,
    Plan,
    Reconciled,
    ScanInput,
)
from sluice.store import objects
from sluice.tables.csv_ranges import ByteRange, CsvError, plan_ranges
from sluice.tables.csv_scan import HEAD_BYTES, read_header, scan_range

logger = Logger(service="sluice")

_UPLOAD_KEY = re.compile(
    r"^uploads/(?P<owner>[^/]+)/(?P<id>[0-9a-f]{32})/(?P<upload>[0-9a-f]{12})\.csv$"
)


def execution_name(dataset_id: str, upload_id: str, etag: str) -> str:
    """Deterministic, so that a notification delivered twice starts one execution."""
    return f"{dataset_id}-{upload_id}-{re.sub(r'[^0-9A-Za-z]', '', etag)[:24]}"


def on_upload(cfg: Settings, repo: DatasetRepository, event: dict[str, Any]) -> list[str]:
    """Start one ingest per object an S3 notification names; returns the runs started."""
    started: list[str] = []
    for record in event.get("Records", []):
        s3 = record["s3"]
        bucket, key = s3["bucket"]["name"], unquote_plus(s3["object"]["key"])
        size, etag = int(s3["object"].get("size", 0)), s3["object"].get("eTag", "")
        match = _UPLOAD_KEY.match(key)
        if match is None:
            logger.warning("ignoring an object outside the upload layout", key=key)
            continue
        run = _accept_upload(
            cfg, repo, match["owner"], match["id"], match["upload"], bucket, key, size, etag
        )
        if run:
            started.append(run)
    return started


def _accept_upload(
    cfg: Settings,
    repo: DatasetRepository,
    owner: str,
    dataset_id: str,
    upload_id: str,
    bucket: str,
    key: str,
    size: int,
    etag: str,
) -> str | None:
    dataset = repo.find(owner, dataset_id)
    if dataset is None:
        objects.delete_object(bucket, key)  # uploaded after the dataset was deleted
        return None
    if size > cfg.max_upload_bytes:
        # Presigned policies are not enforced everywhere (moto ignores them): check again here.
        objects.delete_object(bucket, key)
        message = f"the upload is {size} bytes; the limit is {cfg.max_upload_bytes} bytes"
        keeps_data = dataset.status is DatasetStatus.READY
        repo.update(
            owner,
            dataset_id,
            {
                "error": {"code": "upload_too_large", "message": message},
                **({} if keeps_data else {"status": DatasetStatus.FAILED.value, "progress": 0.0}),
            },
        )
        return None
    run = execution_name(dataset_id, upload_id, etag)
    accepted = repo.update(
        owner,
        dataset_id,
        {
            "status": DatasetStatus.UPLOADED.value,
            "progress": 0.0,
            "ingest_run": run,
            "source": SourceObject(bucket=bucket, key=key, bytes=size, etag=etag).model_dump(),
            "chunks_done": 0,
        },
        remove=("error",),
        unless_run=run,
    )
    if accepted is None:
        logger.info("upload already accepted", run=run)
        return None
    sfn = aws.client("stepfunctions")
    payload = IngestInput(
        dataset=DatasetRef(owner=owner, id=dataset_id, run=run),
        object=ObjectRef(bucket=bucket, key=key, size=size, etag=etag),
    )
    try:
        sfn.start_execution(
            stateMachineArn=cfg.ingest_state_machine_arn, name=run, input=payload.model_dump_json()
        )
    except sfn.exceptions.ExecutionAlreadyExists:
        logger.info("ingest already started", run=run)
    return run


def plan(cfg: Settings, repo: DatasetRepository, payload: IngestInput) -> Plan:
    """Read the header and split the rest of the object into chunk ranges."""
    obj, ref = payload.object, payload.dataset
    head = objects.read_range(obj.bucket, obj.key, 0, min(obj.size, HEAD_BYTES))
    header = read_header(head, obj.size)
    ranges = plan_ranges(header.data_start, obj.size, cfg.chunk_bytes)
    repo.update(
        ref.owner,
        ref.id,
        {"status": DatasetStatus.INFERRING.value, "chunk_count": len(ranges), "chunks_done": 0},
        only_if_run=ref.run,
    )
    return Plan(
        object=obj,
        columns=header.columns,
        data_start=header.data_start,
        header_newlines=header.newlines,
        # The first range starts right after the header, outside quotes by construction.
        chunks=[
            ChunkItem(index=r.index, start=r.start, end=r.end, parity=0 if r.index == 0 else None)
            for r in ranges
        ],
    )


def scan_chunk(repo: DatasetRepository, payload: ScanInput) -> ChunkResult:
    """Count the records of one range (guessing its quote parity if not given)."""
    obj, chunk = payload.object, payload.chunk

    def read(start: int, end: int) -> bytes:
        return objects.read_range(obj.bucket, obj.key, start, end)

    scan = scan_range(
        read,
        ByteRange(chunk.index, chunk.start, chunk.end),
        obj.size,
        payload.columns,
        chunk.parity,
    )
    ref = payload.dataset
    repo.update(ref.owner, ref.id, {}, add_chunks_done=1, only_if_run=ref.run)
    return ChunkResult.model_validate(scan, from_attributes=True)


def hash_object(payload: HashInput) -> dict[str, str]:
    """The SHA-256 of the whole object, streamed."""
    digest = hashlib.sha256()
    for block in objects.iter_object(payload.object.bucket, payload.object.key):
        digest.update(block)
    return {"sha256": digest.hexdigest()}


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
        parity = (parity + chunk.quotes) % 2
    return Reconciled(chunks=chunks, redo=redo)


def finish(repo: DatasetRepository, payload: FinishInput) -> dict[str, Any]:
    """Merge the chunk results and record the dataset as ready (or failed, naming the line)."""
    ref = payload.dataset
    by_index = {c.index: c for c in payload.chunks}
    by_index.update({c.index: c for c in payload.rescanned})
    chunks = [by_index[i] for i in sorted(by_index)]
    problem = _first_ragged_row(payload.plan, chunks)
    if problem:
        return _record_failure(repo, ref, "invalid_csv", problem)
    rows = sum(c.rows for c in chunks)
    source = payload.plan.object
    done = repo.update(
        ref.owner,
        ref.id,
        {
            "status": DatasetStatus.READY.value,
            "progress": 1.0,
            "row_count": rows,
            "size_bytes": source.size,
            "sha256": payload.sha256,
            "columns": payload.plan.columns,
        },
        remove=("error",),
        only_if_run=ref.run,
    )
    if done is not None:
        _remove_superseded_uploads(ref, source.key, source.bucket)
    return {"status": "ready", "row_count": rows}


def _first_ragged_row(plan_: Plan, chunks: list[ChunkResult]) -> str | None:
    total = sum(c.ragged for c in chunks)
    if not total:
        return None
    newlines = plan_.header_newlines
    for chunk in chunks:
        if chunk.ragged_rows:
            row = chunk.ragged_rows[0]
            line = newlines + row.newlines_before + 1
            more = f" ({total} rows in all have the wrong number of fields)" if total > 1 else ""
            return (
                f"line {line}: expected {row.expected} fields like the header, "
                f"found {row.actual}: {row.text[:80]!r}{more}"
            )
        newlines += chunk.newlines
    return None


def _remove_superseded_uploads(ref: DatasetRef, current_key: str, bucket: str) -> None:
    s3 = aws.client("s3")
    prefix = upload_prefix(ref.owner, ref.id)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if item["Key"] != current_key:
                objects.delete_object(bucket, item["Key"])


def fail(repo: DatasetRepository, payload: FailInput) -> dict[str, Any]:
    """Record why the execution failed, in words a user can act on."""
    code, message = "ingest_failed", payload.error.Error
    cause = payload.error.Cause
    if cause:
        try:
            detail = json.loads(cause)
        except ValueError:
            detail = {"errorMessage": cause}
        if isinstance(detail, dict):
            message = str(detail.get("errorMessage") or message)
            if detail.get("errorType") == CsvError.__name__:
                code = "invalid_csv"
    return _record_failure(repo, payload.dataset, code, message)


def _record_failure(
    repo: DatasetRepository, ref: DatasetRef, code: str, message: str
) -> dict[str, Any]:
    repo.update(
        ref.owner,
        ref.id,
        {"status": DatasetStatus.FAILED.value, "error": {"code": code, "message": message}},
        only_if_run=ref.run,
    )
    return {"status": "failed", "error": {"code": code, "message": message}}
