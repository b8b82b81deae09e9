"""sluice.datasets.query_tables against moto's Glue, DynamoDB and S3: what a registration
leaves on the dataset, and the table following the record when a run could not record
itself ready."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws
from sluice import aws
from sluice.datasets import query_tables
from sluice.datasets.manifest import Manifest, ManifestColumn, Part
from sluice.datasets.models import (
    Dataset,
    DatasetChanges,
    ErrorInfo,
    QueryTable,
    SourceObject,
)
from sluice.datasets.repository import DatasetRepository
from sluice.datasets.workspace import Workspace
from sluice.inference.types import ColumnType
from sluice.store import glue_tables

DATABASE, TABLE, DATA = "sluice_datasets", "sluice-records", "sluice-data"
OWNER, ID = "owner-1", "0123456789abcdef0123456789abcdef"
NAME = f"sales_orders_{ID}"


@pytest.fixture
def repo(monkeypatch: pytest.MonkeyPatch) -> Iterator[DatasetRepository]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for key, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "SLUICE_TABLE": TABLE,
        "SLUICE_UPLOAD_BUCKET": "sluice-uploads",
        "SLUICE_DATA_BUCKET": DATA,
        "SLUICE_GLUE_DATABASE": DATABASE,
    }.items():
        monkeypatch.setenv(key, value)
    aws.reset_clients()
    with mock_aws():
        boto3.client("glue").create_database(DatabaseInput={"Name": DATABASE})
        boto3.client("s3").create_bucket(Bucket=DATA)
        boto3.client("dynamodb").create_table(
            TableName=TABLE,
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield DatasetRepository(TABLE)
    aws.reset_clients()


def dataset(**extra: object) -> Dataset:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Dataset(
        id=ID,
        owner=OWNER,
        name="Orders",
        path="sales",
        created_at=now,
        updated_at=now,
        source=SourceObject(bucket="sluice-uploads", key=f"uploads/{OWNER}/{ID}/a.csv"),
        **extra,  # type: ignore[arg-type]
    )


def manifest(run: str, column_type: ColumnType = ColumnType.INT64) -> Manifest:
    key = Workspace(OWNER, ID, run).part(0)
    return Manifest(
        run=run,
        row_count=1,
        columns=[ManifestColumn(name="n", effective_type=column_type)],
        parts=[Part(key=key, first_row=0, rows=1, bytes=1)],
    )


def location(run: str) -> str:
    return f"s3://{DATA}/{Workspace(OWNER, ID, run).parts}"


def test_a_registration_names_the_table_for_the_record(repo: DatasetRepository) -> None:
    registered = query_tables.register(dataset(), manifest("run-1"))
    assert registered == query_tables.Registration(
        query_table=QueryTable(database=DATABASE, table=NAME)
    )
    assert registered.changes() == (
        {"query_table": QueryTable(database=DATABASE, table=NAME)},
        ("catalog_error",),
    )


def test_a_refused_registration_removes_the_earlier_runs_table(
    repo: DatasetRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    query_tables.register(dataset(), manifest("run-1"))
    monkeypatch.setenv("SLUICE_GLUE_DATABASE", "sluice_missing")
    known = dataset(query_table=QueryTable(database=DATABASE, table=NAME))
    registered = query_tables.register(known, manifest("run-2"))
    assert registered.query_table is None
    assert registered.catalog_error == ErrorInfo(
        code="catalog_failed", message="Glue Data Catalog: EntityNotFoundException"
    )
    assert registered.changes()[1] == ("query_table",)
    assert glue_tables.find_table(DATABASE, NAME) is None


def test_a_table_made_for_a_deleted_dataset_is_removed(repo: DatasetRepository) -> None:
    registered = query_tables.register(dataset(), manifest("run-1"))
    assert registered.query_table is not None
    query_tables.follow_record(repo, OWNER, ID, registered.query_table)
    assert glue_tables.find_table(DATABASE, NAME) is None


def test_a_table_made_by_a_superseded_run_goes_back_to_the_live_run(
    repo: DatasetRepository,
) -> None:
    live = manifest("run-1", ColumnType.INT8)
    boto3.client("s3").put_object(
        Bucket=DATA, Key=Workspace(OWNER, ID, "run-1").manifest, Body=live.model_dump_json()
    )
    repo.create(dataset())
    repo.update(OWNER, ID, DatasetChanges(data_run="run-1"))
    registered = query_tables.register(dataset(), manifest("run-2"))
    assert registered.query_table is not None
    query_tables.follow_record(repo, OWNER, ID, registered.query_table)
    table = glue_tables.find_table(DATABASE, NAME)
    assert table is not None
    assert (table.location, table.parameters["sluice_run"]) == (location("run-1"), "run-1")
    assert [c.type for c in table.columns] == ["tinyint", "map<string,string>"]


def test_removing_a_never_registered_dataset_removes_the_table_a_finish_would_name(
    repo: DatasetRepository,
) -> None:
    query_tables.register(dataset(), manifest("run-1"))
    query_tables.remove(dataset())
    assert glue_tables.find_table(DATABASE, NAME) is None
