"""An upload landing in S3 runs the real ingest state machine to a recorded result."""

from __future__ import annotations

import csv
import io
import random

import pytest
import requests

from tests.conftest import CHUNK_BYTES, MAX_UPLOAD_BYTES
from tests.integration.map_runs import rescan_results, scan_results
from tests.integration.uploader import UPLOADS, Uploader
from tests.support import call_api, invoke, load_event, reference_content_hash, wait_for


def messy_csv(rows: int, seed: int = 3) -> tuple[bytes, int]:
    """A BOM, CRLF endings, quoted commas, quotes and newlines, and no final newline."""
    rng = random.Random(seed)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(["id", "note", "amount"])
    notes = ["plain", 'say "hi"', "a, b", "two\nlines", "", "x" * 300]
    for i in range(rows):
        writer.writerow([i, rng.choice(notes), f"{rng.uniform(0, 1000):.2f}"])
    return ("\ufeff" + text.getvalue().removesuffix("\r\n")).encode(), rows


def test_a_messy_multi_chunk_file_is_counted_exactly(uploader: Uploader) -> None:
    body, rows = messy_csv(400)
    dataset = uploader.ingest(body)
    assert dataset["status"] == "ready", dataset["error"]
    assert dataset["row_count"] == rows
    assert [c["name"] for c in dataset["columns"]] == ["id", "note", "amount"]
    assert dataset["size_bytes"] == len(body)
    assert dataset["content_hash"] == reference_content_hash(body)
    assert dataset["chunk_count"] == -(-(len(body)) // CHUNK_BYTES)
    assert (dataset["progress"], dataset["error"]) == (1.0, None)


def test_blocks_that_straddle_chunk_edges_still_make_the_content_hash(
    uploader: Uploader, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 2.5 MiB chunks over three 4 MiB blocks: one chunk hashes none, one reads past its end.
    monkeypatch.setenv("SLUICE_CHUNK_BYTES", str(5 * 512 * 1024))
    monkeypatch.setenv("SLUICE_MAX_UPLOAD_BYTES", str(16 * 1024 * 1024))
    rows = 9 * 1024 * 1024 // 16
    body = b"n,text\n" + b"".join(b"%07d,abcdefgh\n" % i for i in range(rows))
    dataset = uploader.ingest(body)
    assert (dataset["status"], dataset["chunk_count"], dataset["row_count"]) == ("ready", 4, rows)
    assert dataset["content_hash"] == reference_content_hash(body)


def test_a_presigned_post_over_real_http_lands_and_ingests(uploader: Uploader) -> None:
    dataset_id, upload = uploader.create()
    answer = requests.post(
        upload["url"],
        data=upload["fields"],
        files={"file": ("s.csv", b"a,b\n1,2\n3,4\n")},
        timeout=30,
    )
    assert answer.status_code == 204
    dataset = uploader.settled(dataset_id)
    assert (dataset["status"], dataset["row_count"]) == ("ready", 2)


def test_a_range_that_begins_inside_a_quoted_field_is_rescanned(uploader: Uploader) -> None:
    # The first quotes after the chunk edge, `,"""`, look like an opening quote but end a field.
    long_field = "y" * (CHUNK_BYTES + 100) + ',"'
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["id", "note"])
    writer.writerows([[1, "short"], [2, long_field], [3, "z"]])
    dataset = uploader.ingest(text.getvalue().encode())
    assert (dataset["status"], dataset["row_count"]) == ("ready", 3)
    history = uploader.sfn.get_execution_history(
        executionArn=uploader.executions(dataset["id"])[0]["executionArn"], maxResults=1000
    )["events"]
    entered = [
        e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e
    ]
    # ScanChunks is a Distributed Map: its children's states are in their own histories,
    # as in AWS; its results, every chunk's scan, in S3 where its ResultWriter put them.
    assert "ScanChunk" not in entered
    assert sorted(chunk["index"] for chunk in scan_results(history)) == list(
        range(dataset["chunk_count"])
    )
    assert len(rescan_results(history)) == 1  # RescanChunks, a Distributed Map too


def test_a_header_only_file_is_ready_with_no_rows(uploader: Uploader) -> None:
    dataset = uploader.ingest(b"a,b,c\n")
    assert (dataset["status"], dataset["row_count"]) == ("ready", 0)
    assert [(c["name"], c["effective_type"]) for c in dataset["columns"]] == [
        ("a", "string"),
        ("b", "string"),
        ("c", "string"),
    ]


def test_a_ragged_row_fails_the_dataset_naming_its_line(uploader: Uploader) -> None:
    lines = ["a,b,c"] + [f"{i},{i},{i}" for i in range(200)]
    lines[150] = "oops,2"
    dataset = uploader.ingest(("\n".join(lines) + "\n").encode())
    assert dataset["status"] == "failed"
    assert dataset["error"] == {
        "code": "invalid_csv",
        "message": "line 151: expected 3 fields like the header, found 2: 'oops,2'",
    }


def test_an_empty_file_fails_with_a_clear_reason(uploader: Uploader) -> None:
    dataset = uploader.ingest(b"")
    assert dataset["status"] == "failed"
    assert dataset["error"] == {"code": "invalid_csv", "message": "the file is empty"}


def test_a_binary_file_fails_as_not_csv(uploader: Uploader) -> None:
    dataset = uploader.ingest(b"PK\x03\x04\x00\x00binary")
    assert dataset["status"] == "failed"
    assert dataset["error"]["message"] == (
        "the file starts like a zip archive but cannot be read as one (it is cut short or damaged)"
    )


def test_an_oversized_upload_fails_and_its_object_is_removed(uploader: Uploader) -> None:
    dataset_id, upload = uploader.create()
    uploader.put(upload["fields"]["key"], b"a\n" + b"1\n" * (MAX_UPLOAD_BYTES // 2))
    dataset = uploader.settled(dataset_id)
    size = MAX_UPLOAD_BYTES + 2
    assert dataset["error"] == {
        "code": "upload_too_large",
        "message": f"the upload is {size} bytes; the limit is {MAX_UPLOAD_BYTES} bytes",
    }
    assert dataset["status"] == "failed"
    listed = uploader.s3.list_objects_v2(Bucket=UPLOADS, Prefix=upload["fields"]["key"])
    assert listed["KeyCount"] == 0
    assert uploader.executions(dataset_id) == []


def test_the_same_upload_event_twice_starts_one_execution(uploader: Uploader) -> None:
    dataset_id, upload = uploader.create()
    key, body = upload["fields"]["key"], b"a,b\n1,2\n"
    uploader.put(key, body)
    uploader.settled(dataset_id)
    head = uploader.s3.head_object(Bucket=UPLOADS, Key=key)
    event = load_event("on_upload/object_created")
    event["Records"][0]["s3"]["object"].update(
        {"key": key, "size": len(body), "eTag": head["ETag"].strip('"')}
    )
    assert invoke("on_upload", event) == {"started": []}
    assert len(uploader.executions(dataset_id)) == 1
    assert uploader.dataset(dataset_id)["status"] == "ready"


def test_a_new_upload_replaces_the_file_and_the_old_one_is_removed(uploader: Uploader) -> None:
    dataset_id, upload = uploader.create()
    uploader.put(upload["fields"]["key"], b"a\n1\n")
    settled = uploader.settled(dataset_id)
    assert settled["row_count"] == 1, settled
    status, second = call_api("POST", f"/datasets/{dataset_id}/upload", owner=uploader.owner)
    assert status == 200
    uploader.put(second["fields"]["key"], b"a\n1\n2\n3\n")
    dataset = wait_for(
        lambda: (
            ((d := uploader.dataset(dataset_id))["row_count"] == 3 and d["status"] == "ready" and d)
            or None
        ),
        60,
        "the second upload to be ingested",
    )
    assert dataset["source"]["key"] == second["fields"]["key"]

    def only_the_new_file() -> list[str] | None:
        # Finish removes the old file just after it marks the dataset ready.
        listed = uploader.s3.list_objects_v2(
            Bucket=UPLOADS, Prefix=f"uploads/{uploader.owner}/{dataset_id}/"
        )
        keys = [o["Key"] for o in listed["Contents"]]
        return keys if keys == [second["fields"]["key"]] else None

    wait_for(only_the_new_file, 30, "the replaced file to be removed")


def test_an_oversized_replacement_keeps_the_ready_dataset(uploader: Uploader) -> None:
    dataset_id, upload = uploader.create()
    uploader.put(upload["fields"]["key"], b"a\n1\n")
    uploader.settled(dataset_id)
    second = call_api("POST", f"/datasets/{dataset_id}/upload", owner=uploader.owner)[1]
    uploader.put(second["fields"]["key"], b"a\n" + b"1\n" * MAX_UPLOAD_BYTES)
    dataset = uploader.dataset(dataset_id)
    assert (dataset["status"], dataset["row_count"]) == ("ready", 1)
    assert dataset["error"]["code"] == "upload_too_large"
    assert (
        uploader.s3.head_object(Bucket=UPLOADS, Key=upload["fields"]["key"])["ContentLength"] == 4
    )


def test_invalid_utf8_fails_naming_its_line(uploader: Uploader) -> None:
    lines = [b"id,name"] + [f"{i},name {i}".encode() for i in range(100)]
    lines[80] = b"79,caf\xe9"  # Latin-1, not UTF-8
    dataset = uploader.ingest(b"\n".join(lines) + b"\n")
    assert dataset["status"] == "failed"
    offset = sum(len(line) + 1 for line in lines[:80]) + len(b"79,caf")
    assert dataset["error"] == {
        "code": "invalid_csv",
        "message": f"line 81: the text is not valid UTF-8 (byte {offset}); start the "
        'inference again with the file\'s encoding ("encoding": "cp1252", say), or save '
        "the file as UTF-8 and upload it again",
    }


def test_a_record_longer_than_a_chunk_is_read_whole(uploader: Uploader) -> None:
    text = "x" * (CHUNK_BYTES * 3)
    dataset = uploader.ingest(f"id,text\n1,{text}\n2,short\n".encode())
    assert (dataset["status"], dataset["row_count"]) == ("ready", 2)
    status, page = call_api("GET", f"/datasets/{dataset['id']}/rows", owner=uploader.owner)
    assert status == 200
    assert [len(row["text"]) for row in page["rows"]] == [CHUNK_BYTES * 3, 5]


def test_an_unclosed_quote_fails_instead_of_swallowing_the_rest(uploader: Uploader) -> None:
    dataset = uploader.ingest(b'id,text\n1,"never closed\n2,b\n3,c\n')
    assert dataset["error"] == {
        "code": "invalid_csv",
        "message": "the file ends inside a quoted field: a quote is never closed",
    }


def test_a_json_document_is_not_taken_for_a_table(uploader: Uploader) -> None:
    dataset = uploader.ingest(b'{"rows": [\n  {"a": 1, "b": 2},\n  {"a": 3}\n]}\n')
    assert dataset["status"] == "failed"
    assert dataset["error"]["message"].startswith(
        "line 2: expected 1 field like the header, found 3"
    )


def test_an_image_is_refused_as_binary(uploader: Uploader) -> None:
    dataset = uploader.ingest(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert dataset["error"] == {
        "code": "invalid_csv",
        "message": "the file is not CSV text: it looks like a PNG image",
    }
