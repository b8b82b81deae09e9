"""The sample events in events/ drive their functions on the embedded AWS.

events/ingest/*.json are the real inputs of one ingest of events/ingest/object.csv
(regenerate them with `python -m events.regenerate`). The fixture runs that ingest
for real; replaying any step's sample then gives the same answer again (a scan's part
may be typed otherwise, by the counts it sees), which is also what makes Step
Functions' retries safe.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from sluice.config import settings
from sluice.datasets import columns as column_store
from sluice.datasets.models import Dataset, SourceObject, utcnow
from sluice.datasets.repository import DatasetRepository
from sluice.datasets.tickets import ticket_for
from sluice.datasets.workspace import Workspace
from sluice.store import map_results, objects
from sluice.tasks.models import Task, TaskChanges, TaskStatus
from sluice.tasks.repository import TaskRepository

from events.regenerate import numbered_map_runs
from tests.support import invoke, load_event, project_path, reference_content_hash, wait_for

OBJECT = project_path("events", "ingest", "object.csv")


@pytest.fixture(autouse=True)
def sample_chunk_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """The samples were recorded with 32-byte chunks, one child per Distributed Map."""
    monkeypatch.setenv("SLUICE_CHUNK_BYTES", "32")
    monkeypatch.setenv("SLUICE_MAP_CONCURRENCY", "1")


@pytest.fixture(scope="module")
def recorded(local: Any) -> dict[str, Any]:
    """The samples' dataset, ingested for real from the samples' file in 32-byte chunks."""
    decide = load_event("ingest/decide")
    ref, obj = decide["dataset"], decide["ingest"]["plan"]["object"]
    repo = DatasetRepository(settings().table)
    now = utcnow()
    repo.create(
        Dataset(
            id=ref["id"],
            owner=ref["owner"],
            name="sample",
            path="samples",
            created_at=now,
            updated_at=now,
            source=SourceObject(bucket=obj["bucket"], key=obj["key"]),
            # Its upload's ticket, as the API records it, so that on_upload takes the file.
            upload_tickets={obj["key"].rsplit("/", 1)[1][: -len(".csv")]: ticket_for("post", 3600)},
        )
    )
    with pytest.MonkeyPatch.context() as patch, numbered_map_runs():
        patch.setenv("SLUICE_CHUNK_BYTES", "32")
        patch.setenv("SLUICE_MAP_CONCURRENCY", "1")
        local.client("s3").put_object(
            Bucket=obj["bucket"], Key=obj["key"], Body=OBJECT.read_bytes()
        )
        wait_for(
            lambda: repo.get(ref["owner"], ref["id"]).status.value in ("ready", "failed") or None,
            60,
            "the sample ingest",
        )
    dataset = repo.get(ref["owner"], ref["id"])
    assert (dataset.status.value, dataset.ingest_run) == ("ready", ref["run"])
    return decide


# The task's samples replay first: they read the typed parts as the recorded ingest left
# them, and the scan replay below rewrites its chunk's part with that chunk's own types.
@pytest.fixture(scope="module")
def recorded_task(recorded: dict[str, Any], local: Any) -> TaskRepository:
    """The samples' task, run for real once on the samples' dataset (its Map Runs
    numbered as when the samples were recorded: the events name their results)."""
    plan = load_event("tasks/plan")
    owner, task_id = plan["task"]["owner"], plan["task"]["id"]
    dataset = DatasetRepository(settings().table).get(owner, recorded["dataset"]["id"])
    shared = load_event("tasks/partial")["BatchInput"]
    now = utcnow()
    task = Task(
        id=task_id,
        owner=owner,
        dataset_id=dataset.id,
        spec=shared["spec"],
        output=load_event("tasks/reduce")["BatchInput"]["output"],
        created_at=now,
        updated_at=now,
        data_run=dataset.data_run,
        run=f"task-{task_id}",
    )
    tasks = TaskRepository(settings().table)
    tasks.create(task)
    sfn = local.client("stepfunctions")
    machine = local.deployment.state_machines["run_task"]
    with pytest.MonkeyPatch.context() as patch, numbered_map_runs():
        patch.setenv("SLUICE_MAP_CONCURRENCY", "1")
        sfn.start_execution(stateMachineArn=machine, name=task.run, input=json.dumps(plan))
        wait_for(
            lambda: tasks.get(owner, task_id).status.value not in ("queued", "running") or None,
            60,
            "the sample task",
        )
    assert tasks.get(owner, task_id).status.value == "succeeded"
    return tasks


def test_task_sample_events_replay_the_recorded_task(recorded_task: TaskRepository) -> None:
    ref = load_event("tasks/plan")["task"]
    recorded_task.update(ref["owner"], ref["id"], TaskChanges(status=TaskStatus.QUEUED))
    planned = invoke("task_plan", load_event("tasks/plan"))
    assert planned == load_event("tasks/gather")["plan"]
    partial = load_event("tasks/partial")
    parts = objects.get_json(planned["parts"]["bucket"], planned["parts"]["key"])
    assert partial["Items"] == parts[: planned["batch"]]
    replayed = invoke("task_partial", partial)
    # Its small parts are aggregated together: one buckets file, named by the first.
    assert [p for result in replayed for p in result["parts"]] == [p["index"] for p in parts]
    # Gather reads the parts' indexes (the recorded run removed its partials: the replay
    # above wrote them again, byte for byte) and lists each bucket's ranges in them.
    gathered = invoke("task_gather", load_event("tasks/gather"))
    reduces = objects.get_json(gathered["items"]["bucket"], gathered["items"]["key"])
    assert load_event("tasks/reduce")["Items"] == reduces
    reduced = invoke("task_reduce", load_event("tasks/reduce"))
    assert reduced == _results(load_event("tasks/finish")["reduced"], "bucket")
    assert invoke("task_finish", load_event("tasks/finish")) == {
        "status": "succeeded",
        "files": 1,
        "rows": 4,
    }


def test_plan_event_plans_the_recorded_chunks(recorded: dict[str, Any]) -> None:
    assert invoke("ingest_plan", load_event("ingest/plan")) == recorded["ingest"]["plan"]


def _untyped(chunk: dict[str, Any]) -> dict[str, Any]:
    """A scan's result but for the types it wrote its part with: those follow the counts
    of the scans before it, which a replay, after the run, does not see."""
    part = chunk["part"] and {k: v for k, v in chunk["part"].items() if k != "bytes"}
    return {**{k: v for k, v in chunk.items() if k != "part_plan"}, "part": part}


def _results(details: dict[str, str], field: str = "index") -> list[dict[str, Any]]:
    """What a Distributed Map's children returned (each its batch's list), by ``field``."""
    outputs = map_results.outputs(map_results.ResultWriterDetails.model_validate(details))
    return sorted((result for batch in outputs for result in batch), key=lambda r: r[field])


def test_scan_chunk_event_scans_its_chunks_again(recorded: dict[str, Any]) -> None:
    expected = _results(recorded["ingest"]["scanned"])
    replayed = invoke("ingest_scan_chunk", load_event("ingest/scan_chunk"))
    assert sorted(map(_untyped, replayed), key=lambda r: r["index"]) == list(
        map(_untyped, expected)
    )


def test_decide_event_joins_the_scans_block_digests_into_the_content_hash(
    recorded: dict[str, Any],
) -> None:
    one_block = reference_content_hash(OBJECT.read_bytes())
    assert one_block == hashlib.sha256(hashlib.sha256(OBJECT.read_bytes()).digest()).hexdigest()
    assert invoke("ingest_decide", load_event("ingest/decide"))["content_hash"] == one_block
    assert load_event("ingest/finish")["content_hash"] == one_block


def test_reconcile_event_lists_the_recorded_rescans(recorded: dict[str, Any]) -> None:
    rescans = invoke("ingest_reconcile", load_event("ingest/reconcile"))
    redo = objects.get_json(rescans["items"]["bucket"], rescans["items"]["key"])
    assert [c["index"] for c in redo] == [
        c["index"] for c in _results(recorded["ingest"]["rescanned_at"])
    ]


def test_load_layout_event_loads_what_the_scans_learned(recorded: dict[str, Any]) -> None:
    # The plan and the content hash; not the chunks, which Decide reads from the layout.
    layout = invoke("ingest_load_layout", load_event("ingest/load_layout"))
    assert layout == {
        **recorded["ingest"],
        "scanned": None,
        "chunks": [],
        "rescanned": [],
        "rescanned_at": None,
        "content_hash": reference_content_hash(OBJECT.read_bytes()),
    }


def test_decide_event_decides_the_recorded_types(recorded: dict[str, Any]) -> None:
    event = load_event("ingest/decide")
    invoke("ingest_decide", event)
    ref = event["dataset"]
    key = Workspace(ref["owner"], ref["id"], ref["run"]).columns
    decided = column_store.load(settings().data_bucket, key)
    assert decided is not None
    assert [(c.name, c.effective_type.value) for c in decided.all()] == [
        ("id", "int8"),
        ("name", "string"),
        ("score", "float32"),
    ]


def test_convert_chunk_event_rewrites_the_same_parts(recorded: dict[str, Any]) -> None:
    converted = invoke("ingest_convert_chunk", load_event("ingest/convert_chunk"))
    assert converted == _results(load_event("ingest/finish")["converted"])


def test_finish_event_records_the_dataset_as_ready(recorded: dict[str, Any]) -> None:
    assert invoke("ingest_finish", load_event("ingest/finish")) == {
        "status": "ready",
        "row_count": 4,
    }


def test_on_upload_event_for_the_run_already_claimed_starts_nothing(
    recorded: dict[str, Any],
) -> None:
    assert invoke("on_upload", load_event("on_upload/object_created")) == {"started": []}


def test_export_event_writes_the_download(recorded: dict[str, Any]) -> None:
    assert invoke("export_dataset", load_event("export_dataset/export_csv")) == {
        "key": f"datasets/{recorded['dataset']['owner']}/{recorded['dataset']['id']}/"
        f"{recorded['dataset']['run']}/export/dataset.csv",
        "rows": 4,
    }


def test_finish_failure_event_records_the_reason(recorded: dict[str, Any]) -> None:
    # Last: it leaves the sample dataset failed.
    event = load_event("ingest/finish_failure")
    assert invoke("ingest_finish", event) == {
        "status": "failed",
        "error": {"code": "invalid_csv", "message": "line 1: the header is empty"},
    }


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("create_dataset", 201),
        ("list_datasets", 200),
        ("get_dataset", 404),
        ("update_dataset", 404),
        ("delete_dataset", 404),
        ("renew_upload", 404),
        ("sign_in", 200),
        ("refresh", 401),
        ("openapi", 200),
    ],
)
def test_api_sample_event_gets_its_status(local: Any, name: str, status: int) -> None:
    assert invoke("api", load_event(f"api/{name}"))["statusCode"] == status
