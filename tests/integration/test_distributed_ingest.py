"""The ingest's ScanChunks as a Distributed Map (issue 23): chunks read from S3, scanned
in batches, results written to S3 and read back by the next steps; one failed chunk
fails the run with that chunk's own message. A file of hundreds of chunks also
aggregates exactly (the task's Maps are Distributed too)."""

from __future__ import annotations

import time
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests
from sluice.config import settings
from sluice.csv.ranges import CsvError
from sluice.ingest import scan_steps
from sluice.store import objects

from tests.integration.uploader import Uploader
from tests.support import call_api, wait_for

MANY_CHUNK_BYTES = 64
"""A chunk size that makes a small file hundreds of chunks."""


def numbers_csv(rows: int) -> bytes:
    lines = ["id,amount,label"] + [f"{i},{i * 3 % 1000}.25,w{i % 7}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def test_a_file_of_hundreds_of_chunks_ingests_exactly_in_batches(
    uploader: Uploader, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLUICE_CHUNK_BYTES", str(MANY_CHUNK_BYTES))
    # The local system's worker count, where it runs a pool: each child scans a batch.
    monkeypatch.setenv("SLUICE_MAP_CONCURRENCY", "8")
    # 250+ chunks, not the 2,000+ that the inline Maps could not carry: locally each scan
    # costs ~0.13 s of the two cores (its S3 and DynamoDB requests on the embedded AWS), so
    # 2,000 would take ~4.5 minutes (262 take 35 s).
    rows = 1_200
    body = numbers_csv(rows)
    started = time.monotonic()
    dataset = uploader.ingest(body)
    took = time.monotonic() - started
    assert (dataset["status"], dataset["error"]) == ("ready", None)
    assert dataset["chunk_count"] > 250
    assert dataset["row_count"] == rows
    typed = typed_rows(uploader.owner, dataset["id"])
    assert typed.column("id").to_pylist() == list(range(rows))
    assert typed.column("amount").to_pylist() == [i * 3 % 1000 + 0.25 for i in range(rows)]
    assert typed.column("label").to_pylist() == [f"w{i % 7}" for i in range(rows)]
    print(f"{dataset['chunk_count']} chunks ingested in {took:.1f} s")
    # ... and aggregates exactly: a task over its parts (Distributed Maps too) against
    # Python's own sums of the same rows.
    request = {
        "group_by": ["label"],
        "aggregations": [
            {"column": "id", "op": "sum", "name": "ids"},
            {"column": "amount", "op": "count", "name": "n"},
        ],
        "output": {"format": "parquet"},
    }
    status, task = call_api(
        "POST", f"/datasets/{dataset['id']}/tasks", request, owner=uploader.owner
    )
    assert status == 202, task
    done = wait_for(
        lambda: (lambda t: t if t["status"] not in ("queued", "running") else None)(
            call_api("GET", f"/tasks/{task['id']}", owner=uploader.owner)[1]
        ),
        120,
        "the aggregation",
    )
    assert (done["status"], done["parts"] > 1) == ("succeeded", True)
    print(f"{done['parts']} parts, {done['buckets']} buckets aggregated: {done['timings']}")
    answer = call_api("GET", f"/tasks/{task['id']}/result", owner=uploader.owner)[1]
    out = pa.concat_tables(
        pq.read_table(pa.BufferReader(requests.get(f["url"], timeout=30).content))
        for f in answer["output_files"]
    )
    got = {
        (label, ids, n)
        for label, ids, n in zip(*(out[c].to_pylist() for c in ("label", "ids", "n")), strict=True)
    }
    assert got == {
        (f"w{k}", sum(i for i in range(rows) if i % 7 == k), len(range(k, rows, 7)))
        for k in range(7)
    }


def typed_rows(owner: str, dataset_id: str) -> pa.Table:
    """The dataset's typed parts, in the manifest's order, as one table."""
    bucket = settings().data_bucket
    (manifest,) = [
        key
        for key in objects.list_keys(bucket, f"datasets/{owner}/{dataset_id}/")
        if key.endswith("/manifest.json")
    ]
    parts = objects.get_json(bucket, manifest)["parts"]
    bodies = objects.get_all(bucket, [part["key"] for part in parts])
    tables = [pq.read_table(pa.BufferReader(body)) for body in bodies]
    return pa.concat_tables(tables).select(["id", "amount", "label"])


def test_one_failed_chunk_fails_the_run_with_its_message_and_leaves_no_parts(
    uploader: Uploader, monkeypatch: pytest.MonkeyPatch
) -> None:
    scan = scan_steps.scan_chunk

    def failing_on_chunk_2(context: Any, payload: Any) -> Any:
        if payload.chunk.index == 2:
            raise CsvError("chunk 2 could not be read: the disk said no")
        return scan(context, payload)

    monkeypatch.setattr(scan_steps, "scan_chunk", failing_on_chunk_2)
    dataset = uploader.ingest(numbers_csv(300))
    assert dataset["status"] == "failed"
    assert dataset["error"] == {
        "code": "invalid_csv",
        "message": "chunk 2 could not be read: the disk said no",
    }
    owner_parts = f"datasets/{uploader.owner}/{dataset['id']}/"
    assert objects.list_keys(settings().data_bucket, owner_parts) == []
