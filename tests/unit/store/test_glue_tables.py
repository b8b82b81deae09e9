"""sluice.store.glue_tables: Parquet tables of a Glue database, created, replaced, read back
and deleted (moto's Glue)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from sluice import aws
from sluice.store import glue_tables
from sluice.store.glue_tables import GlueColumn, GlueTable

DATABASE = "sluice_datasets"


@pytest.fixture(autouse=True)
def glue(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # moto's in-process Glue, whatever endpoint an embedded AWS of the session exported.
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    aws.reset_clients()
    with mock_aws():
        boto3.client("glue").create_database(DatabaseInput={"Name": DATABASE})
        yield
    aws.reset_clients()


def sales(location: str = "s3://data/datasets/o/d/run-1/parts/") -> GlueTable:
    return GlueTable(
        database=DATABASE,
        name="sales_d",
        columns=[GlueColumn(name="n", type="bigint"), GlueColumn(name="at", type="timestamp")],
        location=location,
        parameters={"sluice_owner": "o"},
    )


def test_a_put_table_reads_back_as_it_was_put() -> None:
    glue_tables.put_table(sales())
    assert glue_tables.find_table(DATABASE, "sales_d") == sales()


def test_a_put_table_is_an_external_parquet_table() -> None:
    glue_tables.put_table(sales())
    table = boto3.client("glue").get_table(DatabaseName=DATABASE, Name="sales_d")["Table"]
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert table["Parameters"] == {
        "classification": "parquet",
        "EXTERNAL": "TRUE",
        "sluice_owner": "o",
    }
    assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == (
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    )


def test_putting_a_table_again_replaces_its_definition() -> None:
    glue_tables.put_table(sales())
    moved = sales("s3://data/datasets/o/d/run-2/parts/").model_copy(
        update={"columns": [GlueColumn(name="n", type="string")]}
    )
    glue_tables.put_table(moved)
    assert glue_tables.find_table(DATABASE, "sales_d") == moved


def test_a_table_that_is_not_there_is_none() -> None:
    assert glue_tables.find_table(DATABASE, "nothing") is None


def test_deleting_a_table_says_whether_there_was_one() -> None:
    glue_tables.put_table(sales())
    assert glue_tables.delete_table(DATABASE, "sales_d") is True
    assert glue_tables.find_table(DATABASE, "sales_d") is None
    assert glue_tables.delete_table(DATABASE, "sales_d") is False
