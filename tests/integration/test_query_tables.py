"""Every ready dataset is a table of the deployment's Glue database (moto's Glue here):
its columns with their Glue types, its run's parts as the location, its owner in the
parameters; a re-conversion changes it, deletion removes it, and a Glue failure leaves the
dataset ready with a catalog_error."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pytest
from sluice.config import settings
from sluice.store.records import RecordTable

from tests.integration.sessions_support import new_session, ref, run_to_end
from tests.integration.uploader import Uploader
from tests.support import call_api, wait_for

DATABASE = "sluice_datasets"
DATA = "sluice-data"

# One column of every type sluice infers, each declared so the test does not hang on the
# inference's choices.
CSV = (
    b"flag,small,medium,large,huge,ratio,precise,at,took,region,note\n"
    b"true,1,300,70000,5000000000,0.5,0.125,2024-01-02 03:04:05,01:30:00,eu,first\n"
    b"false,-2,-300,-70000,-5000000000,1.5,2.25,2024-02-03 04:05:06,00:00:07,us,second\n"
    b"true,3,301,70001,5000000001,,3.5,2024-03-04 05:06:07,2 days 00:00:01,eu,third\n"
)
TYPES = {
    "flag": "bool",
    "small": "int8",
    "medium": "int16",
    "large": "int32",
    "huge": "int64",
    "ratio": "float32",
    "precise": "float64",
    "at": "datetime",
    "took": "timedelta",
    "region": "category",
    "note": "string",
}
GLUE_TYPES = [
    {"Name": "flag", "Type": "boolean"},
    {"Name": "small", "Type": "tinyint"},
    {"Name": "medium", "Type": "smallint"},
    {"Name": "large", "Type": "int"},
    {"Name": "huge", "Type": "bigint"},
    {"Name": "ratio", "Type": "float"},
    {"Name": "precise", "Type": "double"},
    {"Name": "at", "Type": "timestamp"},
    {"Name": "took", "Type": "bigint"},
    {"Name": "region", "Type": "string"},
    {"Name": "note", "Type": "string"},
    {"Name": "_exceptions", "Type": "map<string,string>"},
]


@pytest.fixture(scope="module")
def glue(local: Any) -> Any:
    return local.client("glue")


@pytest.fixture(scope="module")
def ready(local: Any) -> tuple[Uploader, dict[str, Any]]:
    uploader = Uploader(local)
    dataset = uploader.ingest(CSV, name="Orders (EU)", path="sales/2024", column_types=TYPES)
    assert dataset["status"] == "ready"
    return uploader, dataset


def table_of(glue: Any, dataset: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = glue.get_table(
        DatabaseName=DATABASE, Name=dataset["query_table"]["table"]
    )["Table"]
    return found


def manifest_of(uploader: Uploader, dataset: dict[str, Any], run: str) -> dict[str, Any]:
    key = f"datasets/{uploader.owner}/{dataset['id']}/{run}/manifest.json"
    return json.loads(uploader.s3.get_object(Bucket=DATA, Key=key)["Body"].read())  # type: ignore[no-any-return]


def only_run(uploader: Uploader, dataset: dict[str, Any]) -> str:
    """The run of a dataset ingested once: the one folder of its typed data."""
    listed = uploader.s3.list_objects_v2(
        Bucket=DATA, Prefix=f"datasets/{uploader.owner}/{dataset['id']}/", Delimiter="/"
    )
    (folder,) = [p["Prefix"] for p in listed["CommonPrefixes"]]
    return str(folder.rstrip("/").rsplit("/", 1)[-1])


def test_a_ready_dataset_names_its_table(ready: tuple[Uploader, dict[str, Any]]) -> None:
    _, dataset = ready
    assert dataset["query_table"] == {
        "database": DATABASE,
        "table": f"sales_2024_orders_eu_{dataset['id']}",
    }
    assert dataset["catalog_error"] is None


def test_the_table_has_the_datasets_columns_with_their_glue_types(
    ready: tuple[Uploader, dict[str, Any]], glue: Any
) -> None:
    _, dataset = ready
    assert {c["name"]: c["effective_type"] for c in dataset["columns"]} == TYPES
    assert table_of(glue, dataset)["StorageDescriptor"]["Columns"] == GLUE_TYPES


def test_the_tables_location_holds_exactly_the_manifests_parts(
    ready: tuple[Uploader, dict[str, Any]], glue: Any
) -> None:
    uploader, dataset = ready
    location = table_of(glue, dataset)["StorageDescriptor"]["Location"]
    manifest = manifest_of(uploader, dataset, only_run(uploader, dataset))
    folder = f"datasets/{uploader.owner}/{dataset['id']}/{manifest['run']}/parts/"
    assert location == f"s3://{DATA}/{folder}"
    listed = uploader.s3.list_objects_v2(Bucket=DATA, Prefix=folder)["Contents"]
    assert sorted(o["Key"] for o in listed) == sorted(p["key"] for p in manifest["parts"])


def test_the_table_is_parquet_and_names_its_owner(
    ready: tuple[Uploader, dict[str, Any]], glue: Any
) -> None:
    uploader, dataset = ready
    table = table_of(glue, dataset)
    storage = table["StorageDescriptor"]
    assert (storage["InputFormat"], storage["OutputFormat"]) == (
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    )
    assert storage["SerdeInfo"]["SerializationLibrary"] == (
        "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    )
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert table["Parameters"] == {
        "classification": "parquet",
        "EXTERNAL": "TRUE",
        "sluice_owner": uploader.owner,
        "sluice_dataset_id": dataset["id"],
        "sluice_run": only_run(uploader, dataset),
    }


def test_reading_the_tables_location_gives_the_datasets_rows(
    ready: tuple[Uploader, dict[str, Any]], glue: Any, local: Any
) -> None:
    _, dataset = ready
    location = table_of(glue, dataset)["StorageDescriptor"]["Location"]
    s3 = pafs.S3FileSystem(
        endpoint_override=local.endpoint, access_key="test", secret_key="test", region="us-east-1"
    )
    rows = pads.dataset(location.removeprefix("s3://"), format="parquet", filesystem=s3)
    table = rows.to_table().sort_by("medium")
    assert table.column("note").to_pylist() == ["second", "first", "third"]
    assert table.column("huge").to_pylist() == [-5_000_000_000, 5_000_000_000, 5_000_000_001]
    assert table.column("at").to_pylist()[1] == dt.datetime(2024, 1, 2, 3, 4, 5)
    assert table.column("took").to_pylist() == [
        dt.timedelta(seconds=7),
        dt.timedelta(hours=1, minutes=30),
        dt.timedelta(days=2, seconds=1),
    ]
    assert table.column("ratio").to_pylist() == [1.5, 0.5, None]
    assert table.column("region").to_pylist() == ["us", "eu", "eu"]


def test_a_reconversion_moves_the_table_to_its_run_and_types(local: Any, glue: Any) -> None:
    uploader = Uploader(local)
    dataset = uploader.ingest(b"code,v\n1,2\n2,3\n3,4\n", name="codes")
    before = table_of(glue, dataset)
    status, _ = call_api(
        "PUT",
        f"/datasets/{dataset['id']}/preferred-types",
        {"types": {"code": "string"}},
        owner=uploader.owner,
    )
    assert status == 202
    done = uploader.settled(dataset["id"])
    after = table_of(glue, done)
    assert done["query_table"] == dataset["query_table"]
    assert [c["Type"] for c in before["StorageDescriptor"]["Columns"]] == [
        "tinyint",
        "tinyint",
        "map<string,string>",
    ]
    assert [c["Type"] for c in after["StorageDescriptor"]["Columns"]] == [
        "string",
        "tinyint",
        "map<string,string>",
    ]
    run = after["Parameters"]["sluice_run"]
    assert run != before["Parameters"]["sluice_run"]
    folder = f"datasets/{uploader.owner}/{dataset['id']}/{run}/parts/"
    assert after["StorageDescriptor"]["Location"] == f"s3://{DATA}/{folder}"
    manifest = manifest_of(uploader, done, run)
    assert [(c["name"], c["effective_type"]) for c in manifest["columns"]] == [
        ("code", "string"),
        ("v", "int8"),
    ]
    assert all(part["key"].startswith(folder) for part in manifest["parts"])


def test_deleting_a_dataset_removes_its_table(local: Any, glue: Any) -> None:
    uploader = Uploader(local)
    dataset = uploader.ingest(b"n\n1\n2\n", name="short-lived")
    name = dataset["query_table"]["table"]
    status, _ = call_api("DELETE", f"/datasets/{dataset['id']}", owner=uploader.owner)
    assert status == 204
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_table(DatabaseName=DATABASE, Name=name)


def uncatalogued(uploader: Uploader, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A dataset ingested while Finish names a database Glue does not have."""
    with monkeypatch.context() as patched:
        patched.setenv("SLUICE_GLUE_DATABASE", "sluice_missing")
        return uploader.ingest(b"n\n1\n2\n", name="uncatalogued")


def test_a_glue_failure_leaves_the_dataset_ready_with_a_catalog_error(
    local: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = uncatalogued(Uploader(local), monkeypatch)
    assert dataset["status"] == "ready"
    assert dataset["row_count"] == 2
    assert dataset["query_table"] is None
    # Glue's error code only: its message may name the account and the function's role.
    assert dataset["catalog_error"] == {
        "code": "catalog_failed",
        "message": "Glue Data Catalog: EntityNotFoundException",
    }


def test_the_next_reconversion_registers_a_dataset_glue_refused(
    local: Any, glue: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploader = Uploader(local)
    dataset = uncatalogued(uploader, monkeypatch)
    call_api(
        "PUT",
        f"/datasets/{dataset['id']}/preferred-types",
        {"types": {"n": "int64"}},
        owner=uploader.owner,
    )

    def registered() -> dict[str, Any] | None:
        done = uploader.dataset(dataset["id"])
        return done if done["status"] == "ready" and done["query_table"] else None

    done = wait_for(registered, 60, "the re-conversion to register the table")
    assert done["catalog_error"] is None
    assert [c["Type"] for c in table_of(glue, done)["StorageDescriptor"]["Columns"]] == [
        "bigint",
        "map<string,string>",
    ]


def backfilled(local: Any) -> dict[str, Any]:
    """What the catalog_backfill function answers, invoked as an operator would."""
    answer = local.client("lambda").invoke(FunctionName="sluice-catalog_backfill", Payload=b"{}")
    assert "FunctionError" not in answer, answer["Payload"].read()
    return json.loads(answer["Payload"].read())  # type: ignore[no-any-return]


def test_the_backfill_registers_a_dataset_recorded_before_the_catalogue(
    local: Any, glue: Any
) -> None:
    uploader = Uploader(local)
    dataset = uploader.ingest(b"code,v\n1,2\n2,3\n", name="from before")
    table = dataset["query_table"]
    # As a record saved before issue 23 left it: no table, and no field naming one.
    glue.delete_table(DatabaseName=DATABASE, Name=table["table"])
    RecordTable(settings().table).update(
        uploader.owner, f"DATASET#{dataset['id']}", {}, remove=("query_table",)
    )
    assert uploader.dataset(dataset["id"])["query_table"] is None
    assert dataset["id"] in backfilled(local)["registered"]
    assert uploader.dataset(dataset["id"])["query_table"] == table
    registered = table_of(glue, dataset)
    assert [c["Type"] for c in registered["StorageDescriptor"]["Columns"]] == [
        "tinyint",
        "tinyint",
        "map<string,string>",
    ]
    run = registered["Parameters"]["sluice_run"]
    assert registered["StorageDescriptor"]["Location"] == (
        f"s3://{DATA}/datasets/{uploader.owner}/{dataset['id']}/{run}/parts/"
    )


def test_the_backfill_registers_a_dataset_glue_refused(
    local: Any, glue: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploader = Uploader(local)
    dataset = uncatalogued(uploader, monkeypatch)
    assert dataset["id"] in backfilled(local)["registered"]
    done = uploader.dataset(dataset["id"])
    assert (done["catalog_error"], done["query_table"]["database"]) == (None, DATABASE)
    assert table_of(glue, done)["Parameters"]["sluice_dataset_id"] == dataset["id"]


def parquet_names(local: Any, location: str) -> list[str]:
    s3 = pafs.S3FileSystem(
        endpoint_override=local.endpoint, access_key="test", secret_key="test", region="us-east-1"
    )
    found = pads.dataset(location.removeprefix("s3://"), format="parquet", filesystem=s3)
    return list(found.schema.names)


def test_an_operations_output_dataset_is_a_table_and_goes_with_the_operation(
    local: Any, glue: Any
) -> None:
    uploader = Uploader(local)
    dataset = uploader.ingest(b"region,amount,qty\neu,1.5,2\nus,2.5,3\n", name="small sales")
    session = new_session(uploader, dataset["id"])
    done = run_to_end(
        uploader,
        session["id"],
        "select_columns",
        {"dataset": ref(dataset["id"]), "columns": ["qty", "amount"]},
    )
    (output_id,) = done["output"]["datasets"]
    output = uploader.dataset(output_id)
    assert output["query_table"]["table"] == (
        f"sessions_{session['id']}_select_columns_of_small_sales_{output_id}"
    )
    table = table_of(glue, output)
    columns = table["StorageDescriptor"]["Columns"]
    assert columns[:2] == [{"Name": "qty", "Type": "tinyint"}, {"Name": "amount", "Type": "float"}]
    location = table["StorageDescriptor"]["Location"]
    assert [c["Name"] for c in columns] == parquet_names(local, location)
    assert table["Parameters"]["sluice_owner"] == uploader.owner
    status, _ = call_api(
        "DELETE", f"/sessions/{session['id']}/operations/{done['id']}", owner=uploader.owner
    )
    assert status == 204
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_table(DatabaseName=DATABASE, Name=output["query_table"]["table"])
