"""Whole-file type inference through the real state machine, and the schema routes."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
from sluice.config import settings
from sluice.datasets.models import Dataset, DatasetStatus, SourceObject, utcnow
from sluice.datasets.workspace import Workspace
from sluice.inference.statistics import chunk_stats
from sluice.ingest import provisional, scan_steps
from sluice.ingest.scan_groups import StatsGroup, group_key
from sluice.store import objects

from tests.integration.uploader import Uploader
from tests.support import call_api, hold, wait_for

REGIONS = ["north", "south", "east", "west"]


def typed_csv(rows: int = 300) -> bytes:
    """One column per type, over several 1 KiB chunks, with NA texts sprinkled in."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(
        ["id", "flag", "small", "big", "price", "ratio", "day", "stamp", "wait", "region", "note"]
    )
    for i in range(rows):
        writer.writerow(
            [
                i,
                ["yes", "No", "Y", "n"][i % 4],
                i % 100 - 50,
                i * 10_000_000_000,
                "NA" if i % 7 == 0 else f"{i * 1.25:.2f}",
                f"{i / 3:.15f}",
                f"{i % 28 + 1:02d}/{i % 12 + 1:02d}/2024",
                f"2024-03-{i % 28 + 1:02d}T10:{i % 60:02d}:00Z",
                f"{i % 5} days 0{i % 10}:15:00",
                REGIONS[i % 4],
                f"note {i}, with a comma" if i % 2 else f"line one\nline {i}",
            ]
        )
    return text.getvalue().encode()


def types_of(dataset: dict[str, Any]) -> dict[str, str]:
    assert dataset["status"] == "ready", dataset["error"]
    return {c["name"]: c["effective_type"] for c in dataset["columns"]}


@pytest.fixture(scope="module")
def ready(local: Any) -> tuple[Uploader, dict[str, Any]]:
    """One typed dataset, ingested once for the read-only tests of this module."""
    uploader = Uploader(local)
    dataset = uploader.ingest(typed_csv())
    assert dataset["status"] == "ready", dataset["error"]
    return uploader, dataset


def test_every_column_gets_its_type(ready: tuple[Uploader, dict[str, Any]]) -> None:
    assert types_of(ready[1]) == {
        "id": "int16",
        "flag": "bool",
        "small": "int8",
        "big": "int64",
        "price": "float32",
        "ratio": "float64",
        "day": "datetime",
        "stamp": "datetime",
        "wait": "timedelta",
        "region": "category",
        "note": "string",
    }


def test_columns_carry_their_statistics(ready: tuple[Uploader, dict[str, Any]]) -> None:
    columns = {c["name"]: c for c in ready[1]["columns"]}
    assert columns["price"]["null_count"] == 43  # "NA" every 7th row of 300
    assert (columns["small"]["min"], columns["small"]["max"]) == (-50, 49)
    assert columns["region"]["categories"] == sorted(REGIONS)
    assert columns["day"]["date_order"] == "dmy"
    assert columns["id"]["failures"]["int8"] == 300 - 128
    assert columns["note"]["failures"]["int64"] == 300


def test_rows_are_typed_and_read_across_parts(ready: tuple[Uploader, dict[str, Any]]) -> None:
    uploader, dataset = ready
    status, page = call_api(
        "GET",
        f"/datasets/{dataset['id']}/rows",
        owner=uploader.owner,
        query={"start_row": "95", "num_rows": "20"},
    )
    assert status == 200
    assert (page["start_row"], page["num_rows"], page["row_count"]) == (95, 20, 300)
    assert [row["id"] for row in page["rows"]] == list(range(95, 115))
    row = page["rows"][3]  # id 98
    assert row["flag"] is True and row["small"] == 48 and row["big"] == 980_000_000_000
    assert row["price"] is None and row["_exceptions"] == {}  # "NA" is missing, not an error
    assert (row["day"], row["stamp"]) == ("2024-03-15T00:00:00", "2024-03-15T10:38:00")
    assert row["wait"] == 3 * 86400 + 8 * 3600 + 15 * 60
    assert row["region"] == "east"


def test_rows_past_the_end_are_cut_short(ready: tuple[Uploader, dict[str, Any]]) -> None:
    uploader, dataset = ready
    _, page = call_api(
        "GET",
        f"/datasets/{dataset['id']}/rows",
        owner=uploader.owner,
        query={"start_row": "295", "num_rows": "50"},
    )
    assert [row["id"] for row in page["rows"]] == [295, 296, 297, 298, 299]


def test_rows_as_csv(ready: tuple[Uploader, dict[str, Any]]) -> None:
    uploader, dataset = ready
    from tests.support import api_event, invoke

    event = api_event(
        "GET",
        f"/datasets/{dataset['id']}/rows",
        owner=uploader.owner,
        query={"start_row": "1", "num_rows": "2", "format": "csv"},
    )
    response = invoke("api", event)
    assert response["statusCode"] == 200
    lines = list(csv.reader(io.StringIO(response["body"])))
    assert lines[0][:3] == ["id", "flag", "small"]
    assert [line[0] for line in lines[1:]] == ["1", "2"]


def test_num_rows_over_the_cap_is_422(ready: tuple[Uploader, dict[str, Any]]) -> None:
    uploader, dataset = ready
    status, body = call_api(
        "GET", f"/datasets/{dataset['id']}/rows", owner=uploader.owner, query={"num_rows": "10001"}
    )
    assert status == 422
    assert body["error"]["message"].startswith("query.num_rows:")


def test_values_failing_within_tolerance_keep_their_text(uploader: Uploader) -> None:
    body = b"n\n" + b"".join(f"{i}\n".encode() for i in range(50)) + b"oops\n"
    dataset = uploader.ingest(body, tolerance=1)
    assert types_of(dataset) == {"n": "int8"}
    assert dataset["exception_count"] == 1
    _, page = call_api(
        "GET", f"/datasets/{dataset['id']}/rows", owner=uploader.owner, query={"start_row": "50"}
    )
    assert page["rows"] == [{"n": None, "_exceptions": {"n": "oops"}}]


def test_without_tolerance_one_bad_value_makes_a_string(uploader: Uploader) -> None:
    body = b"n\n" + b"".join(f"{i}\n".encode() for i in range(50)) + b"oops\n"
    assert types_of(uploader.ingest(body)) == {"n": "string"}


def test_na_values_setting_decides_what_is_missing(uploader: Uploader) -> None:
    body = b"n\n1\n-\n3\nmissing\n"
    dataset = uploader.ingest(body, na_values=["missing", "-"])
    columns = {c["name"]: c for c in dataset["columns"]}
    assert (columns["n"]["effective_type"], columns["n"]["null_count"]) == ("int8", 2)


def test_a_preferred_type_reconverts_without_scanning_again(uploader: Uploader) -> None:
    dataset = uploader.ingest(b"code,v\n1,2\n2,3\n3,4\n")
    status, body = call_api(
        "PUT",
        f"/datasets/{dataset['id']}/preferred-types",
        {"types": {"code": "string"}},
        owner=uploader.owner,
    )
    assert status == 202
    assert body["status"] == "inferring"
    done = uploader.settled(dataset["id"])
    code = next(c for c in done["columns"] if c["name"] == "code")
    assert (code["inferred_type"], code["preferred_type"], code["effective_type"]) == (
        "int8",
        "string",
        "string",
    )
    _, page = call_api("GET", f"/datasets/{dataset['id']}/rows", owner=uploader.owner)
    assert [row["code"] for row in page["rows"]] == ["1", "2", "3"]
    names = [e["name"] for e in uploader.executions(dataset["id"])]
    history = uploader.sfn.get_execution_history(
        executionArn=next(
            e["executionArn"] for e in uploader.executions(dataset["id"]) if "-types-" in e["name"]
        ),
        maxResults=1000,
    )["events"]
    entered = {
        e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e
    }
    assert "ScanChunks" not in entered and "LoadLayout" in entered
    assert len(names) == 2


def test_a_preferred_type_for_an_unknown_column_is_422(
    ready: tuple[Uploader, dict[str, Any]],
) -> None:
    uploader, dataset = ready
    status, body = call_api(
        "PUT",
        f"/datasets/{dataset['id']}/preferred-types",
        {"types": {"nope": "int8"}},
        owner=uploader.owner,
    )
    assert status == 422
    assert body["error"]["message"] == "types: no column named 'nope'"


def test_an_unknown_type_name_is_422(ready: tuple[Uploader, dict[str, Any]]) -> None:
    uploader, dataset = ready
    status, body = call_api(
        "PUT",
        f"/datasets/{dataset['id']}/preferred-types",
        {"types": {"id": "integer"}},
        owner=uploader.owner,
    )
    assert status == 422
    assert body["error"]["message"].startswith("types.id:")


def test_start_infers_again_with_new_settings(uploader: Uploader) -> None:
    dataset = uploader.ingest(b"n\n1\n2\nx\n")
    assert types_of(dataset) == {"n": "string"}
    status, body = call_api(
        "POST",
        f"/datasets/{dataset['id']}/inference",
        {"command": "start", "settings": {"tolerance": 1}},
        owner=uploader.owner,
    )
    assert status == 202
    assert body["settings"]["tolerance"] == 1
    assert types_of(uploader.settled(dataset["id"])) == {"n": "int8"}


def test_status_reports_the_last_run(uploader: Uploader) -> None:
    dataset = uploader.ingest(b"n\n1\n")
    status, body = call_api(
        "POST", f"/datasets/{dataset['id']}/inference", {"command": "status"}, owner=uploader.owner
    )
    assert status == 200
    assert (body["status"], body["progress"], body["run"]) == ("ready", 1.0, dataset["ingest_run"])
    assert body["finished_at"] is not None


def test_reset_forgets_the_schema_and_start_brings_it_back(uploader: Uploader) -> None:
    dataset = uploader.ingest(b"n\n1\n5\n")
    status, _ = call_api(
        "POST", f"/datasets/{dataset['id']}/inference", {"command": "reset"}, owner=uploader.owner
    )
    assert status == 200
    cleared = uploader.dataset(dataset["id"])
    assert (cleared["status"], cleared["columns"], cleared["row_count"]) == ("uploaded", None, None)
    assert call_api("GET", f"/datasets/{dataset['id']}/rows", owner=uploader.owner)[0] == 409
    call_api(
        "POST", f"/datasets/{dataset['id']}/inference", {"command": "start"}, owner=uploader.owner
    )
    assert types_of(uploader.settled(dataset["id"])) == {"n": "int8"}


def test_stop_when_nothing_runs_is_409(uploader: Uploader) -> None:
    dataset = uploader.ingest(b"n\n1\n")
    status, body = call_api(
        "POST", f"/datasets/{dataset['id']}/inference", {"command": "stop"}, owner=uploader.owner
    )
    assert status == 409
    assert body["error"]["message"] == "no inference is running (status ready)"


@pytest.fixture
def held_scans(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Chunk scans wait for the event: a run stays running until the test lets it go."""
    gate = hold(monkeypatch, scan_steps, "scan_chunk")
    yield gate
    gate.set()


def test_stop_cancels_the_run_and_keeps_the_previous_schema(
    uploader: Uploader, held_scans: threading.Event
) -> None:
    held_scans.set()
    dataset = uploader.ingest(b"n\n1\n2\n")
    held_scans.clear()
    call_api(
        "POST",
        f"/datasets/{dataset['id']}/inference",
        {"command": "start", "settings": {"na_values": ["1"]}},
        owner=uploader.owner,
    )
    status, body = call_api(
        "POST", f"/datasets/{dataset['id']}/inference", {"command": "stop"}, owner=uploader.owner
    )
    assert (status, body["status"]) == (200, "stopped")
    held_scans.set()
    run = next(e for e in uploader.executions(dataset["id"]) if "-infer-" in e["name"])
    wait_for(
        lambda: (
            uploader.sfn.describe_execution(executionArn=run["executionArn"])["status"] != "RUNNING"
            or None
        ),
        30,
        "the stopped execution to end",
    )
    after = uploader.dataset(dataset["id"])
    assert after["status"] == "stopped"
    assert after["columns"] == dataset["columns"]
    assert after["row_count"] == 2
    status, page = call_api("GET", f"/datasets/{dataset['id']}/rows", owner=uploader.owner)
    assert (status, page["row_count"]) == (200, 2)


def test_the_schema_shows_while_chunks_are_still_being_scanned(
    uploader: Uploader, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = hold(monkeypatch, scan_steps, "scan_chunk", lambda _, scan: scan.chunk.index == 0)
    dataset_id, upload = uploader.create()
    uploader.put(upload["fields"]["key"], typed_csv())

    def provisional() -> dict[str, Any] | None:
        dataset = uploader.dataset(dataset_id)
        return dataset if dataset["status"] == "inferring" and dataset["columns"] else None

    early = wait_for(provisional, 30, "a provisional schema")
    gate.set()
    assert 0 < early["progress"] < 1
    assert types_of_any(early)["id"] == "int8"  # the first chunk's ids are all below 128
    assert types_of(uploader.settled(dataset_id))["id"] == "int16"


def test_the_provisional_schema_follows_a_chunks_statistics_when_a_rescan_rewrites_them(
    local: Any,
) -> None:
    now = utcnow()
    dataset = Dataset(
        id="ab" * 16,
        owner="provisional-owner",
        name="p",
        path="",
        created_at=now,
        updated_at=now,
        source=SourceObject(bucket="b", key="k"),
        status=DatasetStatus.INFERRING,
        ingest_run="run-1",
    )
    key = group_key(Workspace(dataset.owner, dataset.id, "run-1"), [0])

    def schema_after_writing(values: list[str]) -> list[str]:
        stats = chunk_stats(pa.table({"x": values}), 100)
        objects.put_json(settings().data_bucket, key, StatsGroup(chunks={0: stats}))
        columns = provisional.columns_of(dataset)
        assert columns is not None
        return [c.effective_type.value for c in columns.all()]

    assert schema_after_writing(["1", "2", "3"]) == ["int8"]
    assert schema_after_writing(["1", "2", "3"]) == ["int8"]  # the same, from the cache
    assert schema_after_writing(["1", "2", "x"]) == ["string"]


def types_of_any(dataset: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["effective_type"] for c in dataset["columns"]}


def test_month_names_and_quarters_are_dates(uploader: Uploader) -> None:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["elec", "day", "long", "oracle", "quarter", "loose"])
    quarters = ["{}Q1", "{}-Q2", "Q3 {}", "{} Q4"]
    for i in range(40):
        writer.writerow(
            [
                f"Jan-{i % 28 + 1}-1995",
                f"{i % 28 + 1} Jan 2020",
                f"January {i % 28 + 1}, 2021",
                f"{i % 28 + 1:02d}-JAN-2021",
                quarters[i % 4].format(1974 + i // 4),
                "Feb-30-2021" if i == 7 else f"Feb-{i % 28 + 1}-2021",
            ]
        )
    dataset = uploader.ingest(text.getvalue().encode(), tolerance=1)
    assert set(types_of(dataset).values()) == {"datetime"}
    columns = {c["name"]: c for c in dataset["columns"]}
    assert columns["quarter"]["notes"] == [
        "40 values are quarters (like 1974Q1), read as the quarter's first day (1974-01-01)"
    ]
    assert columns["loose"]["failures"]["datetime:iso"] == 1
    assert columns["loose"]["samples"]["datetime:iso"] == ["Feb-30-2021"]
    assert dataset["exception_count"] == 1
    _, page = call_api(
        "GET", f"/datasets/{dataset['id']}/rows", owner=uploader.owner, query={"num_rows": "8"}
    )
    assert page["rows"][4] == {
        "elec": "1995-01-05T00:00:00",
        "day": "2020-01-05T00:00:00",
        "long": "2021-01-05T00:00:00",
        "oracle": "2021-01-05T00:00:00",
        "quarter": "1975-01-01T00:00:00",
        "loose": "2021-02-05T00:00:00",
        "_exceptions": {},
    }
    assert [row["quarter"][:10] for row in page["rows"][:4]] == [
        "1974-01-01",
        "1974-04-01",
        "1974-07-01",
        "1974-10-01",
    ]
    assert page["rows"][7]["loose"] is None
    assert page["rows"][7]["_exceptions"] == {"loose": "Feb-30-2021"}
