"""The ingest's ScanChunks as a Distributed Map (issue 23): chunks read from S3, scanned
in batches, results written to S3 and read back by the next steps; one failed chunk
fails the run with that chunk's own message. A file of more than 2,000 chunks (more
than the inline Maps' states could carry) also aggregates exactly (the task's Maps are
Distributed too)."""

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
"""A chunk size that makes a small file thousands of chunks."""


def numbers_csv(rows: int) -> bytes:
    lines = ["id,amount,label"] + [f"{i},{i * 3 % 1000}.25,w{i % 7}" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def test_a_file_of_more_than_2000_chunks_ingests_and_aggregates_exactly(
    uploader: Uploader, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLUICE_CHUNK_BYTES", str(MANY_CHUNK_BYTES))
    # Two children at once, as the local system's two workers on this machine: each
    # scans a batch of 64 chunks, and stores what they learned once (scan_groups); a
    # partial aggregates its batch of parts together. What is left a chunk is its part's
    # PUT and the task's GET of it.
    monkeypatch.setenv("SLUICE_MAP_CONCURRENCY", "2")
    rows = 9_000
    body = numbers_csv(rows)
    started = time.monotonic()
    dataset_id, upload = uploader.create()
    uploader.put(upload["fields"]["key"], body)
    # Polled less often than a small file's: every poll is an API call on the same cores.
    dataset = uploader.settled(dataset_id, timeout_s=300, every_s=0.5)
    took = time.monotonic() - started
    assert (dataset["status"], dataset["error"]) == ("ready", None)
    assert dataset["chunk_count"] > 2_000
    assert dataset["row_count"] == rows
    types = {c["name"]: c["effective_type"] for c in dataset["columns"]}
    assert (types["id"], types["amount"]) == ("int16", "float32")  # quarters fit float32
    # The parts at the file's two ends, row for row (the header's chunk, the short last
    # one); every row of every part is in the sums below.
    for first_row, typed in edge_parts(uploader.owner, dataset["id"]):
        ids = list(range(first_row, first_row + typed.num_rows))
        assert typed.column("id").to_pylist() == ids
        assert typed.column("amount").to_pylist() == [i * 3 % 1000 + 0.25 for i in ids]
        assert typed.column("label").to_pylist() == [f"w{i % 7}" for i in ids]
    print(f"{dataset['chunk_count']} chunks ingested in {took:.1f} s")
    # ... and aggregates exactly: a task over its parts (Distributed Maps too) against
    # Python's own sums of the same rows (the amounts are quarters: their float sums are
    # exact in any order).
    request = {
        "group_by": ["label"],
        "aggregations": [
            {"column": "id", "op": "sum", "name": "ids"},
            {"column": "id", "op": "min", "name": "low"},
            {"column": "id", "op": "max", "name": "high"},
            {"column": "amount", "op": "sum", "name": "amounts"},
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
        300,
        "the aggregation",
        every_s=0.5,
    )
    assert (done["status"], done["parts"]) == ("succeeded", dataset["chunk_count"])
    print(f"{done['parts']} parts, {done['buckets']} buckets aggregated: {done['timings']}")
    answer = call_api("GET", f"/tasks/{task['id']}/result", owner=uploader.owner)[1]
    out = pa.concat_tables(
        pq.read_table(pa.BufferReader(requests.get(f["url"], timeout=30).content))
        for f in answer["output_files"]
    )
    names = ("label", "ids", "low", "high", "amounts", "n")
    got = {tuple(row) for row in zip(*(out[c].to_pylist() for c in names), strict=True)}
    expected = set()
    for k in range(7):
        ids = range(k, rows, 7)
        amounts = sum(i * 3 % 1000 + 0.25 for i in ids)
        expected.add((f"w{k}", sum(ids), ids[0], ids[-1], amounts, len(ids)))
    assert got == expected


def edge_parts(owner: str, dataset_id: str) -> list[tuple[int, pa.Table]]:
    """The first two and the last two of the dataset's typed parts, with their first rows."""
    bucket = settings().data_bucket
    (manifest,) = [
        key
        for key in objects.list_keys(bucket, f"datasets/{owner}/{dataset_id}/")
        if key.endswith("/manifest.json")
    ]
    parts = objects.get_json(bucket, manifest)["parts"]
    edges = parts[:2] + parts[-2:]
    bodies = objects.get_all(bucket, [part["key"] for part in edges])
    return [
        (part["first_row"], pq.read_table(pa.BufferReader(body)))
        for part, body in zip(edges, bodies, strict=True)
    ]


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
