"""Analysis tasks: map/reduce aggregation on the real state machine, and BMAT's semantics."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
import requests
from sluice import aws
from sluice.ingest import parts as ingest_parts
from sluice.tasks import pieces as task_pieces
from sluice.tasks import steps as task_steps
from sluice.tasks import steps_partial, steps_reduce
from sluice.tasks.models import Task, TaskStatus
from sluice.tasks.partials import index_size
from sluice.tasks.repository import TaskRepository

from tests.integration.uploader import Uploader
from tests.support import call_api, hold, wait_for

SONGS = ["Blue Moon", "Love, Actually", "Rain (Live)", "Night Drive", "Echoes"]


def plays_csv(rows: int = 600) -> bytes:
    lines = ["Song,Date,Number of Plays"]
    for i in range(rows):
        song = SONGS[i % 5] + f" {i % 13}"
        lines.append(f'"{song}",2024-01-{i % 9 + 1:02d},{(i * 37) % 100 + 1}')
    return ("\n".join(lines) + "\n").encode()


def expected_plays(body: bytes) -> dict[tuple[str, str], int]:
    table = pcsv.read_csv(
        io.BytesIO(body), convert_options=pcsv.ConvertOptions(column_types={"Date": pa.string()})
    )
    grouped = table.group_by(["Song", "Date"]).aggregate([("Number of Plays", "sum")])
    return {
        (s, d): n
        for s, d, n in zip(
            grouped["Song"].to_pylist(),
            grouped["Date"].to_pylist(),
            grouped["Number of Plays_sum"].to_pylist(),
            strict=True,
        )
    }


@pytest.fixture(scope="module")
def plays(local: Any) -> tuple[Uploader, str, bytes]:
    uploader = Uploader(local)
    body = plays_csv()
    dataset = uploader.ingest(body)
    assert dataset["status"] == "ready", dataset["error"]
    return uploader, dataset["id"], body


def start(uploader: Uploader, dataset_id: str, request: dict[str, Any]) -> tuple[int, Any]:
    return call_api("POST", f"/datasets/{dataset_id}/tasks", request, owner=uploader.owner)


def result(uploader: Uploader, task_id: str) -> tuple[int, Any]:
    return call_api("GET", f"/tasks/{task_id}/result", owner=uploader.owner)


def finished(uploader: Uploader, task_id: str) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        task = call_api("GET", f"/tasks/{task_id}", owner=uploader.owner)[1]
        return task if task["status"] not in ("queued", "running") else None

    return wait_for(ended, 60, f"task {task_id}")


def plays_of(table: pa.Table) -> dict[tuple[str, str], int]:
    """A task's BMAT output as {(song, date): plays}."""
    return dict(
        zip(
            zip(table["Song"].to_pylist(), table["Date"].to_pylist(), strict=True),
            table["Number of Plays"].to_pylist(),
            strict=True,
        )
    )


def read_outputs(answer: dict[str, Any]) -> pa.Table:
    tables = [
        pcsv.read_csv(
            io.BytesIO(requests.get(f["url"], timeout=30).content),
            convert_options=pcsv.ConvertOptions(column_types={"Date": pa.string()}),
        )
        for f in answer["output_files"]
    ]
    return pa.concat_tables(tables)


def test_the_bmat_preset_sums_plays_per_song_per_day(plays: tuple[Uploader, str, bytes]) -> None:
    uploader, dataset_id, body = plays
    status, task = start(uploader, dataset_id, {"preset": "bmat_plays_per_song_per_day"})
    assert (status, task["status"]) == (202, "queued")
    assert finished(uploader, task["id"])["status"] == "succeeded"
    status, answer = result(uploader, task["id"])
    assert status == 200
    table = read_outputs(answer)
    assert table.column_names == ["Song", "Date", "Number of Plays"]
    got = plays_of(table)
    assert got == expected_plays(body)
    assert answer["rows"] == len(got) == sum(f["rows"] for f in answer["output_files"])
    # And DuckDB's sums of the same rows.
    plays = pcsv.read_csv(
        io.BytesIO(body), convert_options=pcsv.ConvertOptions(column_types={"Date": pa.string()})
    )
    summed = duckdb.sql('SELECT "Song", "Date", SUM("Number of Plays") FROM plays GROUP BY ALL')
    assert summed is not None
    assert got == {(song, date): total for song, date, total in summed.fetchall()}


def test_every_operation_with_a_filter(plays: tuple[Uploader, str, bytes]) -> None:
    uploader, dataset_id, body = plays
    request = {
        "group_by": ["Date"],
        "aggregations": [
            {"column": "Number of Plays", "op": "sum", "name": "total"},
            {"column": "Number of Plays", "op": "count"},
            {"column": "Number of Plays", "op": "mean"},
            {"column": "Number of Plays", "op": "min"},
            {"column": "Number of Plays", "op": "max"},
            {"column": "Song", "op": "count_distinct"},
        ],
        "filter": [{"column": "Number of Plays", "op": ">", "value": 50}],
    }
    status, task = start(uploader, dataset_id, request)
    assert status == 202
    finished(uploader, task["id"])
    table = read_outputs(result(uploader, task["id"])[1])
    source = pcsv.read_csv(
        io.BytesIO(body), convert_options=pcsv.ConvertOptions(column_types={"Date": pa.string()})
    )
    source = source.filter(pa.compute.greater(source["Number of Plays"], 50))
    reference = (
        source.group_by("Date")
        .aggregate(
            [
                ("Number of Plays", "sum"),
                ("Number of Plays", "count"),
                ("Number of Plays", "mean"),
                ("Number of Plays", "min"),
                ("Number of Plays", "max"),
                ("Song", "count_distinct"),
            ]
        )
        .sort_by("Date")
    )
    table = table.sort_by("Date")
    assert table["Date"].to_pylist() == reference["Date"].to_pylist()
    assert table["total"].to_pylist() == reference["Number of Plays_sum"].to_pylist()
    assert (
        table["count_Number of Plays"].to_pylist() == reference["Number of Plays_count"].to_pylist()
    )
    assert table["mean_Number of Plays"].to_pylist() == pytest.approx(
        reference["Number of Plays_mean"].to_pylist()
    )
    assert table["min_Number of Plays"].to_pylist() == reference["Number of Plays_min"].to_pylist()
    assert table["max_Number of Plays"].to_pylist() == reference["Number of Plays_max"].to_pylist()
    assert table["count_distinct_Song"].to_pylist() == reference["Song_count_distinct"].to_pylist()


def test_no_output_file_exceeds_max_file_bytes(plays: tuple[Uploader, str, bytes]) -> None:
    uploader, dataset_id, body = plays
    request = {"preset": "bmat_plays_per_song_per_day", "output": {"max_file_bytes": 1024}}
    task = start(uploader, dataset_id, request)[1]
    finished(uploader, task["id"])
    answer = result(uploader, task["id"])[1]
    assert len(answer["output_files"]) > 3
    assert all(f["bytes"] <= 1024 for f in answer["output_files"])
    assert [f["name"] for f in answer["output_files"]][:2] == ["part-00000.csv", "part-00001.csv"]
    assert read_outputs(answer).num_rows == len(expected_plays(body))


def test_an_unknown_column_is_422_naming_it(plays: tuple[Uploader, str, bytes]) -> None:
    uploader, dataset_id, _ = plays
    status, body = start(
        uploader,
        dataset_id,
        {"group_by": ["Artist"], "aggregations": [{"column": "Song", "op": "count"}]},
    )
    assert status == 422
    assert "Artist" in body["error"]["message"] and "group_by" in body["error"]["message"]


def test_summing_a_text_column_is_422(plays: tuple[Uploader, str, bytes]) -> None:
    uploader, dataset_id, _ = plays
    status, body = start(uploader, dataset_id, {"aggregations": [{"column": "Song", "op": "sum"}]})
    assert status == 422
    assert "Song" in body["error"]["message"]


def test_an_unknown_operation_is_422(plays: tuple[Uploader, str, bytes]) -> None:
    uploader, dataset_id, _ = plays
    status, body = start(
        uploader, dataset_id, {"aggregations": [{"column": "Song", "op": "median"}]}
    )
    assert status == 422
    assert body["error"]["message"].startswith("aggregations.0.op:")


def test_a_task_on_a_dataset_that_is_not_ready_is_409(uploader: Uploader) -> None:
    dataset_id, _ = uploader.create()
    status, body = start(uploader, dataset_id, {"preset": "bmat_plays_per_song_per_day"})
    assert status == 409
    assert body["error"]["message"].startswith(
        f"dataset {dataset_id} is not ready (status awaiting_upload)"
    )


def test_another_users_task_is_404(plays: tuple[Uploader, str, bytes], local: Any) -> None:
    uploader, dataset_id, _ = plays
    task = start(uploader, dataset_id, {"preset": "bmat_plays_per_song_per_day"})[1]
    stranger = Uploader(local)
    assert call_api("GET", f"/tasks/{task['id']}", owner=stranger.owner)[0] == 404
    assert call_api("GET", f"/tasks/{task['id']}/result", owner=stranger.owner)[0] == 404
    assert call_api("POST", f"/tasks/{task['id']}/cancel", owner=stranger.owner)[0] == 404
    finished(uploader, task["id"])


def test_list_filters_by_dataset_and_status(plays: tuple[Uploader, str, bytes]) -> None:
    uploader, dataset_id, _ = plays
    task = start(uploader, dataset_id, {"preset": "bmat_plays_per_song_per_day"})[1]
    finished(uploader, task["id"])
    status, page = call_api(
        "GET",
        "/tasks",
        owner=uploader.owner,
        query={"dataset_id": dataset_id, "status": "succeeded"},
    )
    assert status == 200
    assert task["id"] in {t["id"] for t in page["items"]}
    assert all(t["status"] == "succeeded" and t["dataset_id"] == dataset_id for t in page["items"])
    _, failed = call_api("GET", "/tasks", owner=uploader.owner, query={"status": "failed"})
    assert task["id"] not in {t["id"] for t in failed["items"]}


def test_a_finished_task_reports_timings(plays: tuple[Uploader, str, bytes]) -> None:
    uploader, dataset_id, _ = plays
    task = start(uploader, dataset_id, {"preset": "bmat_plays_per_song_per_day"})[1]
    done = finished(uploader, task["id"])
    assert done["progress"] == 1.0
    assert done["timings"]["total_s"] >= done["timings"]["partial_s"] >= 0
    assert done["parts"] >= 2 and done["buckets"] >= 1


def test_delete_removes_the_task_and_its_files(plays: tuple[Uploader, str, bytes]) -> None:
    uploader, dataset_id, _ = plays
    task = start(uploader, dataset_id, {"preset": "bmat_plays_per_song_per_day"})[1]
    finished(uploader, task["id"])
    assert call_api("DELETE", f"/tasks/{task['id']}", owner=uploader.owner)[0] == 204
    assert call_api("GET", f"/tasks/{task['id']}", owner=uploader.owner)[0] == 404
    listed = uploader.s3.list_objects_v2(
        Bucket="sluice-data", Prefix=f"tasks/{uploader.owner}/{task['id']}/"
    )
    assert listed["KeyCount"] == 0


def test_each_part_writes_one_partial_file_for_all_its_buckets(
    plays: tuple[Uploader, str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shuffle's PUTs grow as parts, not parts x buckets; finish removes them."""
    uploader, dataset_id, body = plays
    reducing, gate = threading.Event(), threading.Event()
    reduce = steps_reduce.reduce

    def held(*args: Any, **kwargs: Any) -> Any:
        reducing.set()  # every partial has ended: the Map waits for all of them
        gate.wait(30)
        return reduce(*args, **kwargs)

    monkeypatch.setattr(steps_reduce, "reduce", held)
    monkeypatch.setattr(task_steps, "bucket_count", lambda *args: 3)
    task = start(uploader, dataset_id, {"preset": "bmat_plays_per_song_per_day"})[1]
    prefix = f"tasks/{uploader.owner}/{task['id']}/partials/"
    try:
        assert reducing.wait(30)
        listed = uploader.s3.list_objects_v2(Bucket="sluice-data", Prefix=prefix)
    finally:
        gate.set()
    done = finished(uploader, task["id"])
    assert done["status"] == "succeeded"
    assert done["buckets"] == 3
    assert [o["Key"] for o in listed["Contents"]] == [
        f"{prefix}p{part:06d}.buckets" for part in range(done["parts"])
    ]
    assert plays_of(read_outputs(result(uploader, task["id"])[1])) == expected_plays(body)
    assert uploader.s3.list_objects_v2(Bucket="sluice-data", Prefix=prefix)["KeyCount"] == 0


def test_ranges_too_large_for_a_childs_input_go_to_s3_for_their_reducer(
    plays: tuple[Uploader, str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    # As past ~12,000 parts: here any item is too large, so every bucket's ranges are apart.
    monkeypatch.setattr(steps_reduce, "CHILD_ITEMS_BYTES", 10)
    monkeypatch.setattr(task_steps, "bucket_count", lambda *args: 3)
    uploader, dataset_id, body = plays
    task = start(uploader, dataset_id, {"preset": "bmat_plays_per_song_per_day"})[1]
    assert finished(uploader, task["id"])["status"] == "succeeded"
    work = f"tasks/{uploader.owner}/{task['id']}/work/"
    listed = uploader.s3.list_objects_v2(Bucket="sluice-data", Prefix=f"{work}ranges/")
    assert [o["Key"] for o in listed["Contents"]] == [
        f"{work}ranges/b{b:04d}.json" for b in range(3)
    ]
    assert plays_of(read_outputs(result(uploader, task["id"])[1])) == expected_plays(body)


def test_a_part_larger_than_a_piece_is_aggregated_in_runs_of_its_row_groups(
    local: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As an operation's bucket past PIECE_BYTES: a part of several row groups, cut.
    monkeypatch.setattr(ingest_parts, "ROW_GROUP_ROWS", 10)
    uploader = Uploader(local)
    body = plays_csv(600)
    dataset = uploader.ingest(body)
    assert dataset["status"] == "ready", dataset["error"]
    monkeypatch.setattr(task_pieces, "PIECE_BYTES", 1)
    task = start(uploader, dataset["id"], {"preset": "bmat_plays_per_song_per_day"})[1]
    done = finished(uploader, task["id"])
    prefix = f"datasets/{uploader.owner}/{dataset['id']}/"
    listed = uploader.s3.list_objects_v2(Bucket="sluice-data", Prefix=prefix)["Contents"]
    parts = [o["Key"] for o in listed if o["Key"].endswith(".parquet")]
    groups = [
        pq.ParquetFile(
            io.BytesIO(uploader.s3.get_object(Bucket="sluice-data", Key=key)["Body"].read())
        ).num_row_groups
        for key in parts
    ]
    assert sum(groups) > len(parts)  # parts are cut, a row group a piece
    assert (done["status"], done["parts"]) == ("succeeded", sum(groups))
    assert plays_of(read_outputs(result(uploader, task["id"])[1])) == expected_plays(body)


def test_a_text_key_kept_in_dictionary_pages_is_read_as_a_dictionary_and_summed_exactly(
    local: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 600 rows of 65 titles: written with dictionary pages once a part of so few rows may
    # be; read by ranged GETs of its column chunks, as a part of a 64 MiB chunk is.
    monkeypatch.setattr(ingest_parts, "_DICTIONARY_MIN_ROWS", 1)
    uploader = Uploader(local)
    body = plays_csv(600)
    dataset = uploader.ingest(body)
    assert dataset["status"] == "ready", dataset["error"]
    monkeypatch.setattr(steps_partial, "WHOLE_PART_BYTES", 0)
    read: list[pa.DataType] = []
    original = steps_partial.partial

    def partial(*args: Any) -> pa.Table:
        table = original(*args)
        read.append(table.schema.field("Song").type)
        return table

    monkeypatch.setattr(steps_partial, "partial", partial)
    task = start(uploader, dataset["id"], {"preset": "bmat_plays_per_song_per_day"})[1]
    assert finished(uploader, task["id"])["status"] == "succeeded"
    assert read and all(kind == pa.dictionary(pa.int32(), pa.string()) for kind in read)
    assert plays_of(read_outputs(result(uploader, task["id"])[1])) == expected_plays(body)


@pytest.fixture
def held_partials(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    gate = hold(monkeypatch, steps_partial, "partial")
    yield gate
    gate.set()


def test_result_is_425_while_the_task_runs(
    plays: tuple[Uploader, str, bytes], held_partials: threading.Event
) -> None:
    uploader, dataset_id, _ = plays
    task = start(uploader, dataset_id, {"preset": "bmat_plays_per_song_per_day"})[1]
    status, body = result(uploader, task["id"])
    assert status == 425
    assert body["error"]["code"] == "too_early"
    held_partials.set()
    finished(uploader, task["id"])
    assert result(uploader, task["id"])[0] == 200


def execution_ended(uploader: Uploader, task_id: str) -> dict[str, Any]:
    """The task's execution, once it has ended (its last step's clean-up done)."""
    return wait_for(
        lambda: next(
            (
                e
                for e in uploader.sfn.list_executions(stateMachineArn=uploader.machine("run_task"))[
                    "executions"
                ]
                if e["name"] == f"task-{task_id}" and e["status"] != "RUNNING"
            ),
            None,
        ),
        30,
        "the task's execution to end",
    )


def test_cancel_stops_the_task_and_leaves_no_output(
    plays: tuple[Uploader, str, bytes], held_partials: threading.Event
) -> None:
    uploader, dataset_id, _ = plays
    task = start(uploader, dataset_id, {"preset": "bmat_plays_per_song_per_day"})[1]
    status, cancelled = call_api("POST", f"/tasks/{task['id']}/cancel", owner=uploader.owner)
    assert (status, cancelled["status"]) == (200, "cancelled")
    held_partials.set()
    execution = execution_ended(uploader, task["id"])
    assert execution["status"] in ("ABORTED", "FAILED")  # moto may finish the run it stopped
    assert call_api("GET", f"/tasks/{task['id']}", owner=uploader.owner)[1]["status"] == "cancelled"
    status, body = result(uploader, task["id"])
    assert (status, body["error"]["message"]) == (406, "the task was cancelled")
    listed = uploader.s3.list_objects_v2(
        Bucket="sluice-data", Prefix=f"tasks/{uploader.owner}/{task['id']}/"
    )
    assert [entry["Key"] for entry in listed.get("Contents", [])] == []
    assert call_api("POST", f"/tasks/{task['id']}/cancel", owner=uploader.owner)[0] == 409


def test_cancel_read_as_queued_while_plan_starts_it_still_cancels(
    plays: tuple[Uploader, str, bytes],
    held_partials: threading.Event,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The record cancel reads says queued, and Plan has made it running since: cancel's
    # update holds while the task is open, whatever its status was when read (under load,
    # CI once got "running" back from a cancel).
    uploader, dataset_id, _ = plays
    task = start(uploader, dataset_id, {"preset": "bmat_plays_per_song_per_day"})[1]
    wait_for(
        lambda: (
            call_api("GET", f"/tasks/{task['id']}", owner=uploader.owner)[1]["status"] == "running"
            or None
        ),
        what="the task to run",
    )
    read, api_thread = TaskRepository.get, threading.get_ident()
    reads: list[str] = []

    def stale_first(self: TaskRepository, owner: str, task_id: str) -> Task:
        current = read(self, owner, task_id)
        if threading.get_ident() != api_thread:  # the execution's own steps
            return current
        reads.append(current.status.value)
        return (
            current.model_copy(update={"status": TaskStatus.QUEUED}) if len(reads) == 1 else current
        )

    with monkeypatch.context() as patched:
        patched.setattr(TaskRepository, "get", stale_first)
        status, cancelled = call_api("POST", f"/tasks/{task['id']}/cancel", owner=uploader.owner)
    held_partials.set()
    assert (status, cancelled["status"], reads) == (200, "cancelled", ["running"])
    execution_ended(uploader, task["id"])


def test_a_failed_partial_fails_the_task_with_its_message_and_leaves_no_files(
    plays: tuple[Uploader, str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    # One part of several fails for good: the Partials Map fails (no tolerated failures),
    # and RecordFailure finds that part's own message in the Map's FAILED results.
    partial = steps_partial.partial

    def broken_part_1(repo: Any, payload: Any) -> Any:
        if payload.part.index == 1:
            raise ValueError("part 1 is unreadable")
        return partial(repo, payload)

    monkeypatch.setattr(steps_partial, "partial", broken_part_1)
    uploader, dataset_id, _ = plays
    task = start(uploader, dataset_id, {"preset": "bmat_plays_per_song_per_day"})[1]
    done = finished(uploader, task["id"])
    assert (done["status"], done["parts"] > 1) == ("failed", True)
    status, body = result(uploader, task["id"])
    assert status == 406
    assert body["error"] == {
        "code": "task_failed",
        "message": "part 1 is unreadable",
        "details": {"status": "failed"},
    }
    # The other parts' partials, the Maps' lists and results: none left to see once the
    # run has ended (the record says failed before RecordFailure's clean-up is done).
    assert execution_ended(uploader, task["id"])["status"] == "FAILED"
    listed = uploader.s3.list_objects_v2(
        Bucket="sluice-data", Prefix=f"tasks/{uploader.owner}/{task['id']}/"
    )
    assert listed["KeyCount"] == 0


def test_the_reducers_make_one_get_per_part_and_bucket_after_gathers_one_per_part(
    plays: tuple[Uploader, str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shuffle's GETs: Gather reads each part's index once (P), and each reducer one
    slice of each part (P x B), not an index and a slice (2 x P x B)."""
    uploader, dataset_id, body = plays
    monkeypatch.setattr(task_steps, "bucket_count", lambda *args: 3)
    gets: list[tuple[str, str]] = []

    def count(request: Any, **kwargs: Any) -> None:
        if request.method == "GET" and "/partials/" in request.url:
            gets.append((request.url.rsplit("/", 1)[1], request.headers["Range"].decode()))

    s3 = aws.client("s3")  # the client every step of the local system shares
    s3.meta.events.register("before-send.s3.GetObject", count)
    try:
        task = start(uploader, dataset_id, {"preset": "bmat_plays_per_song_per_day"})[1]
        done = finished(uploader, task["id"])
    finally:
        s3.meta.events.unregister("before-send.s3.GetObject", count)
    assert done["status"] == "succeeded"
    parts, buckets = done["parts"], 3
    files = [f"p{part:06d}.buckets" for part in range(parts)]
    index = f"bytes=0-{index_size(buckets) - 1}"
    gathered = [get for get in gets if get[1] == index]
    assert sorted(gathered) == [(name, index) for name in files]
    # In this data every bucket has groups in every part: P x B slices, each read once.
    slices = [get for get in gets if get[1] != index]
    assert len(slices) == len(set(slices)) == parts * buckets
    assert len(gets) == parts + parts * buckets
    assert plays_of(read_outputs(result(uploader, task["id"])[1])) == expected_plays(body)


def test_a_transient_worker_error_is_retried(
    plays: tuple[Uploader, str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[int] = []
    partial = steps_partial.partial
    lock = threading.Lock()

    def flaky(repo: Any, payload: Any) -> Any:
        if payload.part.index == 0:
            with lock:
                attempts.append(1)
                first = len(attempts) == 1
            if first:
                raise task_steps.TransientError("S3 was slow")
        return partial(repo, payload)

    monkeypatch.setattr(steps_partial, "partial", flaky)
    uploader, dataset_id, body = plays
    task = start(uploader, dataset_id, {"preset": "bmat_plays_per_song_per_day"})[1]
    assert finished(uploader, task["id"])["status"] == "succeeded"
    assert len(attempts) == 2
    assert read_outputs(result(uploader, task["id"])[1]).num_rows == len(expected_plays(body))


def numbers_csv(rows: int = 240) -> tuple[bytes, list[dict[str, Any]]]:
    """int64s near 2**62 (so each group's sum passes 2**63), decimals float32 cannot
    hold (statecrime's 459.9), halves it can, and a column with blanks."""
    lines, records = ["k,big,dec,half,maybe"], []
    for i in range(rows):
        big = 2**62 + i * 1_000_003 if i % 5 else -(2**62) + i
        dec = ["459.9", "0.137", "12.5"][i % 3]
        maybe = "" if i % 4 == 0 else str(i)
        lines.append(f"g{i % 3},{big},{dec},{i * 0.5},{maybe}")
        records.append({"k": f"g{i % 3}", "big": big, "dec": dec, "maybe": maybe})
    return ("\n".join(lines) + "\n").encode(), records


@pytest.fixture(scope="module")
def numbers(local: Any) -> tuple[Uploader, dict[str, Any], list[dict[str, Any]]]:
    uploader = Uploader(local)
    body, records = numbers_csv()
    dataset = uploader.ingest(body)
    assert dataset["status"] == "ready", dataset["error"]
    return uploader, dataset, records


def test_numbers_are_typed_without_loss_and_served_as_written(
    numbers: tuple[Uploader, dict[str, Any], list[dict[str, Any]]],
) -> None:
    uploader, dataset, records = numbers
    types = {c["name"]: c["effective_type"] for c in dataset["columns"]}
    assert types == {"k": "category", "big": "int64", "dec": "float64", "half": "float32",
                     "maybe": "int16"}  # fmt: skip
    status, page = call_api(
        "GET", f"/datasets/{dataset['id']}/rows", owner=uploader.owner, query={"num_rows": "6"}
    )
    assert status == 200
    assert [r["dec"] for r in page["rows"]] == [459.9, 0.137, 12.5] * 2  # not 459.8999938964844
    assert [r["half"] for r in page["rows"]] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    assert [r["big"] for r in page["rows"]] == [r["big"] for r in records[:6]]


def test_integer_sums_are_exact_past_int64_and_not_in_nothing_keeps_every_row(
    numbers: tuple[Uploader, dict[str, Any], list[dict[str, Any]]],
) -> None:
    uploader, dataset, records = numbers
    request = {
        "group_by": ["k"],
        "aggregations": [
            {"column": "big", "op": "sum"},
            {"column": "big", "op": "mean"},
            {"column": "dec", "op": "sum"},
            {"column": "*", "op": "count"},
        ],
        "filter": [{"column": "maybe", "op": "not_in", "value": []}],
    }
    status, task = start(uploader, dataset["id"], request)
    assert status == 202
    assert finished(uploader, task["id"])["status"] == "succeeded"
    answer = result(uploader, task["id"])[1]
    options = pcsv.ConvertOptions(column_types={"sum_big": pa.string(), "sum_dec": pa.string()})
    tables = [
        pcsv.read_csv(
            io.BytesIO(requests.get(f["url"], timeout=30).content), convert_options=options
        )
        for f in answer["output_files"]
    ]
    got = {r["k"]: r for r in pa.concat_tables(tables).to_pylist()}
    for key in ("g0", "g1", "g2"):
        mine = [r for r in records if r["k"] == key]
        exact = sum(r["big"] for r in mine)  # Python's integers: no wrapping
        assert exact > 2**63  # an int64 sum would have wrapped
        row = got[key]
        assert int(row["sum_big"]) == exact
        assert row["mean_big"] == pytest.approx(float(Fraction(exact, len(mine))), rel=2**-51)
        decimal_sum = sum(Fraction(r["dec"]) for r in mine)  # the decimals, exactly
        assert float(row["sum_dec"]) == pytest.approx(float(decimal_sum), rel=1e-12)
        assert row["count_*"] == len(mine)  # nulls in "maybe" kept by not_in []


def test_a_task_whose_dataset_is_deleted_while_it_reads_fails_saying_so(
    local: Any, held_partials: threading.Event
) -> None:
    uploader = Uploader(local)
    dataset = uploader.ingest(plays_csv())
    task = start(uploader, dataset["id"], {"preset": "bmat_plays_per_song_per_day"})[1]
    assert call_api("DELETE", f"/datasets/{dataset['id']}", owner=uploader.owner)[0] == 204
    held_partials.set()  # the held partials now read parts the delete removed
    ended = finished(uploader, task["id"])
    assert (ended["status"], ended["error"]) == (
        "failed",
        {
            "code": "task_failed",
            "message": f"dataset {dataset['id']} was deleted while this task read it",
        },
    )
