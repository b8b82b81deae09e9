"""The sample events in events/ drive their functions on the embedded AWS.

events/ingest/*.json describe one small file (events/ingest/object.csv) split into
32-byte chunks; each step's sample input is the previous step's real output.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sluice.config import settings
from sluice.datasets.models import Dataset, SourceObject, utcnow
from sluice.datasets.repository import DatasetRepository

from tests.support import invoke, load_event, project_path

OBJECT = project_path("events", "ingest", "object.csv")


@pytest.fixture(scope="module")
def sample(local: Any) -> Iterator[DatasetRepository]:
    """The samples' dataset record, then its file (the upload notification finds the
    record already claims the samples' run, so it starts nothing)."""
    ref, obj = load_event("ingest/plan")["dataset"], load_event("ingest/plan")["object"]
    repo = DatasetRepository(settings().table)
    now = utcnow()
    repo.create(
        Dataset(
            id=ref["id"],
            owner=ref["owner"],
            name="sample",
            path="",
            created_at=now,
            updated_at=now,
            source=SourceObject(bucket=obj["bucket"], key=obj["key"]),
            ingest_run=ref["run"],
        )
    )
    local.client("s3").put_object(Bucket=obj["bucket"], Key=obj["key"], Body=OBJECT.read_bytes())
    yield repo
    repo.delete(ref["owner"], ref["id"])


@pytest.fixture
def sample_dataset(sample: DatasetRepository, monkeypatch: pytest.MonkeyPatch) -> DatasetRepository:
    """The samples' dataset as the upload left it, with the samples' 32-byte chunks."""
    monkeypatch.setenv("SLUICE_CHUNK_BYTES", "32")
    ref = load_event("ingest/plan")["dataset"]
    sample.update(
        ref["owner"],
        ref["id"],
        {"status": "uploaded", "ingest_run": ref["run"]},
        remove=("error", "row_count", "columns"),
    )
    return sample


def test_plan_event_splits_the_sample_into_the_planned_chunks(
    sample_dataset: DatasetRepository,
) -> None:
    assert invoke("ingest_plan", load_event("ingest/plan")) == load_event("ingest/finish")["plan"]


def test_scan_chunk_event_counts_its_range(sample_dataset: DatasetRepository) -> None:
    expected = load_event("ingest/reconcile")["chunks"][1]
    assert invoke("ingest_scan_chunk", load_event("ingest/scan_chunk")) == expected


def test_hash_object_event_hashes_the_sample(sample: DatasetRepository) -> None:
    assert invoke("ingest_hash", load_event("ingest/hash_object")) == {
        "sha256": load_event("ingest/finish")["sha256"]
    }


def test_reconcile_event_needs_no_rescan() -> None:
    reconciled = invoke("ingest_reconcile", load_event("ingest/reconcile"))
    assert reconciled == {"chunks": load_event("ingest/reconcile")["chunks"], "redo": []}


def test_finish_event_records_the_dataset_as_ready(sample_dataset: DatasetRepository) -> None:
    event = load_event("ingest/finish")
    assert invoke("ingest_finish", event) == {"status": "ready", "row_count": 4}
    dataset = sample_dataset.get(event["dataset"]["owner"], event["dataset"]["id"])
    assert (dataset.status, dataset.row_count, dataset.columns) == (
        "ready",
        4,
        ["id", "name", "score"],
    )


def test_finish_failure_event_records_the_reason(sample_dataset: DatasetRepository) -> None:
    event = load_event("ingest/finish_failure")
    invoke("ingest_finish", event)
    dataset = sample_dataset.get(event["dataset"]["owner"], event["dataset"]["id"])
    assert dataset.status == "failed"
    assert dataset.error is not None
    assert (dataset.error.code, dataset.error.message) == (
        "invalid_csv",
        "line 1: the header is empty",
    )


def test_on_upload_event_for_the_run_already_claimed_starts_nothing(
    sample_dataset: DatasetRepository,
) -> None:
    assert invoke("on_upload", load_event("on_upload/object_created")) == {"started": []}


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
