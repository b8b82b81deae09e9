"""Each scan writes its chunk typed with its own types; Decide keeps those parts that
already have the file's types and converts only the others again."""

from __future__ import annotations

import io
import json
import os
import threading
from typing import Any

import pyarrow.parquet as pq
import pytest
from sluice.ingest import scan_steps

from tests.conftest import CHUNK_BYTES
from tests.integration.map_runs import convert_results, scan_results
from tests.integration.uploader import Uploader
from tests.support import call_api

DATA_BUCKET = os.environ.get("SLUICE_DATA_BUCKET", "sluice-data")


def _history(uploader: Uploader, dataset: dict[str, Any]) -> list[dict[str, Any]]:
    arn = uploader.executions(dataset["id"])[0]["executionArn"]
    events: list[dict[str, Any]] = uploader.sfn.get_execution_history(
        executionArn=arn, maxResults=1000
    )["events"]
    return events


def _converted(uploader: Uploader, dataset: dict[str, Any]) -> int:
    """How many parts ConvertChunks converted again (its ResultWriter's results)."""
    return len(convert_results(_history(uploader, dataset)))


def _manifest(uploader: Uploader, dataset: dict[str, Any]) -> dict[str, Any]:
    keys = uploader.s3.list_objects_v2(
        Bucket=DATA_BUCKET, Prefix=f"datasets/{uploader.owner}/{dataset['id']}/"
    )["Contents"]
    (key,) = [k["Key"] for k in keys if k["Key"].endswith("manifest.json")]
    return json.loads(uploader.s3.get_object(Bucket=DATA_BUCKET, Key=key)["Body"].read())


def _part_types(uploader: Uploader, key: str) -> dict[str, str]:
    body = uploader.s3.get_object(Bucket=DATA_BUCKET, Key=key)["Body"].read()
    schema = pq.read_schema(io.BytesIO(body))
    return {name: str(schema.field(name).type) for name in schema.names}


def _csv(rows: list[str]) -> bytes:
    return ("id,amount,day\n" + "".join(f"{r}\n" for r in rows)).encode()


def test_parts_whose_own_types_are_the_files_are_kept_and_none_is_converted_again(
    uploader: Uploader,
) -> None:
    # Every chunk on its own is int16, float64 and datetime, like the whole file.
    body = _csv([f"{i},{i % 97}.123456789,2024-01-{1 + i % 28:02d}" for i in range(1000, 1400)])
    dataset = uploader.ingest(body)
    assert dataset["status"] == "ready", dataset["error"]
    assert dataset["chunk_count"] > 3
    history = _history(uploader, dataset)
    assert len(scan_results(history)) == dataset["chunk_count"]  # each chunk scanned once
    assert convert_results(history) == []
    parts = _manifest(uploader, dataset)["parts"]
    assert sum(p["rows"] for p in parts) == 400
    assert {
        k: v for k, v in _part_types(uploader, parts[-1]["key"]).items() if k != "_exceptions"
    } == {"id": "int16", "amount": "double", "day": "timestamp[us]"}


@pytest.fixture
def own_types_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scans type their parts by their own statistics alone, not the other scans' counts
    too (which usually spare a chunk its conversion, but arrive in no set order)."""
    monkeypatch.setattr(scan_steps, "with_evidence", lambda stats, _: stats)


@pytest.mark.usefixtures("own_types_only")
def test_a_chunk_whose_own_types_differ_from_the_files_is_converted_again(
    uploader: Uploader,
) -> None:
    # The first chunk holds only whole amounts (int16 on its own); decimals come later.
    whole = [f"{i},{i},2024-01-01" for i in range(CHUNK_BYTES // 20)]
    decimal = [f"{i},{i}.123456789,2024-01-01" for i in range(len(whole), len(whole) + 300)]
    dataset = uploader.ingest(_csv(whole + decimal))
    assert dataset["status"] == "ready", dataset["error"]
    assert {c["name"]: c["effective_type"] for c in dataset["columns"]}["amount"] == "float64"
    parts = _manifest(uploader, dataset)["parts"]
    assert [_part_types(uploader, p["key"])["amount"] for p in parts] == ["double"] * len(parts)
    assert 1 <= _converted(uploader, dataset) < len(parts)


def test_chunks_scanned_after_the_others_take_their_types_and_are_not_converted_again(
    uploader: Uploader, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The decimals are in the later chunks. Here each scan waits for the scans of the
    # chunks after it (as the plan lists them last first), so that every earlier chunk
    # is scanned once their counts are in.
    done: set[int] = set()
    turn = threading.Condition()
    scan = scan_steps.scan_chunk

    def last_chunks_first(context: Any, payload: Any) -> Any:
        later = set(range(payload.chunk.index + 1, context.dataset.chunk_count))
        with turn:
            assert turn.wait_for(lambda: later <= done, timeout=60)
        result = scan(context, payload)
        with turn:
            done.add(payload.chunk.index)
            turn.notify_all()
        return result

    whole = [f"{i},{i},2024-01-01" for i in range(CHUNK_BYTES // 20)]
    decimal = [f"{i},{i}.123456789,2024-01-01" for i in range(len(whole), len(whole) + 300)]
    monkeypatch.setattr(scan_steps, "scan_chunk", last_chunks_first)
    dataset = uploader.ingest(_csv(whole + decimal))
    assert dataset["status"] == "ready", dataset["error"]
    assert dataset["chunk_count"] > 2
    parts = _manifest(uploader, dataset)["parts"]
    assert [_part_types(uploader, p["key"])["amount"] for p in parts] == ["double"] * len(parts)
    assert _converted(uploader, dataset) == 0


def test_a_failed_run_leaves_no_typed_parts_behind(uploader: Uploader) -> None:
    lines = [f"{i},{i}.5,2024-01-01" for i in range(300)] + ["oops"]
    dataset = uploader.ingest(_csv(lines))
    assert dataset["status"] == "failed"
    listed = uploader.s3.list_objects_v2(
        Bucket=DATA_BUCKET, Prefix=f"datasets/{uploader.owner}/{dataset['id']}/"
    )
    assert listed.get("KeyCount") == 0


def _rows(dataset: dict[str, Any], uploader: Uploader, start: int, count: int) -> list[Any]:
    status, page = call_api(
        "GET",
        f"/datasets/{dataset['id']}/rows",
        owner=uploader.owner,
        query={"start_row": str(start), "num_rows": str(count)},
    )
    assert status == 200
    rows: list[Any] = page["rows"]
    return rows


@pytest.mark.usefixtures("own_types_only")
def test_a_chunk_converted_again_keeps_the_exceptions_of_the_columns_it_kept(
    uploader: Uploader,
) -> None:
    # Chunk 0: whole amounts (int16 on its own) and one day that is no date; decimals later.
    whole = [f"{i},{i},2024-01-01" for i in range(CHUNK_BYTES // 20)]
    whole[3] = "3,3,not a day"
    decimal = [f"{i},{i}.123456789,2024-01-01" for i in range(len(whole), len(whole) + 300)]
    dataset = uploader.ingest(_csv(whole + decimal), tolerance=1)
    assert dataset["status"] == "ready", dataset["error"]
    assert {c["name"]: c["effective_type"] for c in dataset["columns"]} == {
        "id": "int16",
        "amount": "float64",
        "day": "datetime",
    }
    assert _converted(uploader, dataset) >= 1
    assert dataset["exception_count"] == 1
    assert _rows(dataset, uploader, 2, 2) == [
        {"id": 2, "amount": 2.0, "day": "2024-01-01T00:00:00", "_exceptions": {}},
        {"id": 3, "amount": 3.0, "day": None, "_exceptions": {"day": "not a day"}},
    ]


def test_a_preferred_type_retypes_that_column_and_keeps_the_others_exceptions(
    uploader: Uploader,
) -> None:
    lines = [f"{i},{i},2024-01-{1 + i % 28:02d}" for i in range(400)]
    lines[250] = "250,250,someday"
    dataset = uploader.ingest(_csv(lines), tolerance=1)
    assert dataset["chunk_count"] > 3
    status, _ = call_api(
        "PUT",
        f"/datasets/{dataset['id']}/preferred-types",
        {"types": {"amount": "string"}},
        owner=uploader.owner,
    )
    assert status == 202
    done = uploader.settled(dataset["id"])
    assert done["status"] == "ready", done["error"]
    assert {c["name"]: c["effective_type"] for c in done["columns"]}["amount"] == "string"
    assert done["exception_count"] == 1
    assert _rows(done, uploader, 249, 2) == [
        {"id": 249, "amount": "249", "day": "2024-01-26T00:00:00", "_exceptions": {}},
        {"id": 250, "amount": "250", "day": None, "_exceptions": {"day": "someday"}},
    ]
