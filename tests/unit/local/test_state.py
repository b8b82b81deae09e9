"""sluice.local.state: the embedded AWS saved to a folder and restored into a new one."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sluice.local import state
from sluice.local.state_interrupted import INTERRUPTED

TABLE, BUCKET, POOL, CLIENT = "sluice-records", "sluice-data", "sluice-users", "sluice-api"
DATABASE = "sluice_datasets"
SCOPE = state.Scope(tables=(TABLE,), buckets=(BUCKET,), glue_databases=(DATABASE,))
GLUE_TABLE = {
    "Name": "sales_0123",
    "Parameters": {"sluice_owner": "owner"},
    "StorageDescriptor": {
        "Columns": [{"Name": "n", "Type": "bigint"}],
        "Location": "s3://sluice-data/datasets/owner/0123/run/parts/",
    },
}
LARGE = bytes(range(256)) * 40_000  # ~10 MB: past moto's in-memory buffer, on disk


def clients() -> tuple[Any, Any, Any]:
    options = {"region_name": "us-east-1"}
    return (
        boto3.client("dynamodb", **options),
        boto3.client("s3", **options),
        boto3.client("cognito-idp", **options),
    )


def provision() -> tuple[str, str]:
    """What provisioning makes on every start: the table, the bucket, a new user pool."""
    dynamodb, s3, cognito = clients()
    dynamodb.create_table(
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
    s3.create_bucket(Bucket=BUCKET)
    boto3.client("glue", region_name="us-east-1").create_database(DatabaseInput={"Name": DATABASE})
    pool = cognito.create_user_pool(PoolName=POOL)["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool,
        ClientName=CLIENT,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    return pool, client


def sign_in(client_id: str, password: str = "Secret-pass-1") -> dict[str, Any]:
    answer = clients()[2].initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": password},
    )
    result: dict[str, Any] = answer["AuthenticationResult"]
    return result


def record(sk: str, status: str, **more: Any) -> dict[str, Any]:
    item = {"pk": {"S": "owner"}, "sk": {"S": sk}, "status": {"S": status}}
    item.update(more)
    return item


@pytest.fixture
def saved(tmp_path: Path) -> dict[str, Any]:
    """A state folder saved from one embedded AWS; what was in it."""
    with mock_aws():
        pool, client = provision()
        dynamodb, s3, cognito = clients()
        cognito.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS")
        cognito.admin_set_user_password(
            UserPoolId=pool, Username="alice", Password="Secret-pass-1", Permanent=True
        )
        tokens = sign_in(client)
        items = [
            record("DATASET#ready", "ready", data={"B": b"\x00\x01"}),
            record("DATASET#busy", "inferring", ingest_run={"S": "run-1"}),
            record("DATASET#claimed", "uploaded", ingest_run={"S": "run-2"}),
            record("DATASET#reset", "uploaded"),
            record("TASK#running", "running"),
            record("TASK#done", "succeeded"),
            record("IMPORT#processing", "processing"),
            record("IMPORT#queued", "queued"),
            record("TRAINING#running", "running"),
            record("TRAINING#done", "succeeded"),
        ]
        for item in items:
            dynamodb.put_item(TableName=TABLE, Item=item)
        s3.put_object(Bucket=BUCKET, Key="small.csv", Body=b"a,b\n1,2\n", ContentType="text/csv")
        s3.put_object(Bucket=BUCKET, Key="dir/large.bin", Body=LARGE, Metadata={"k": "v"})
        heads = {
            key: s3.head_object(Bucket=BUCKET, Key=key) for key in ("small.csv", "dir/large.bin")
        }
        boto3.client("glue", region_name="us-east-1").create_table(
            DatabaseName=DATABASE, TableInput=GLUE_TABLE
        )
        folder = state.StateDir(tmp_path / "state")
        snapshotter = state.Snapshotter(folder, SCOPE, aws_port=4567)
        assert snapshotter.save()
        assert not snapshotter.save()  # nothing changed: nothing written
        folder.close()
    return {"pool": pool, "client": client, "tokens": tokens, "heads": heads, "dir": tmp_path}


def test_a_restore_brings_back_users_records_and_objects(saved: dict[str, Any]) -> None:
    folder = state.StateDir(saved["dir"] / "state")
    assert not folder.fresh
    snapshot = folder.load()
    assert snapshot is not None and snapshot.aws_port == 4567
    with mock_aws():
        new_pool, _ = provision()
        assert new_pool != saved["pool"]
        marked = state.restore(folder, snapshot, SCOPE)
        dynamodb, s3, cognito = clients()
        # The saved pool replaces the new one: same ids, same users, same password.
        assert state.user_pool_ids(SCOPE, POOL, CLIENT) == (saved["pool"], saved["client"])
        sign_in(saved["client"])
        refreshed = cognito.initiate_auth(
            ClientId=saved["client"],
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": saved["tokens"]["RefreshToken"]},
        )
        assert refreshed["AuthenticationResult"]["IdToken"]
        items = dynamodb.scan(TableName=TABLE)["Items"]
        by_key = {item["sk"]["S"]: item for item in items}
        assert by_key["DATASET#ready"]["data"] == {"B": b"\x00\x01"}
        assert marked == 5
        for interrupted in (
            "DATASET#busy",
            "DATASET#claimed",
            "TASK#running",
            "IMPORT#processing",
            "TRAINING#running",
        ):
            assert by_key[interrupted]["status"] == {"S": "failed"}
            assert by_key[interrupted]["error"]["M"]["code"] == {"S": INTERRUPTED}
        for kept, status in (
            ("DATASET#reset", "uploaded"),
            ("TASK#done", "succeeded"),
            ("IMPORT#queued", "queued"),
            ("TRAINING#done", "succeeded"),
        ):
            assert by_key[kept]["status"] == {"S": status}
        for key, head in saved["heads"].items():
            now = s3.head_object(Bucket=BUCKET, Key=key)
            for field in ("ETag", "ContentLength", "ContentType", "LastModified", "Metadata"):
                assert now[field] == head[field], field
        assert s3.get_object(Bucket=BUCKET, Key="dir/large.bin")["Body"].read() == LARGE
        assert s3.get_object(Bucket=BUCKET, Key="small.csv")["Body"].read() == b"a,b\n1,2\n"
    folder.close()


def test_a_restore_brings_back_the_datasets_glue_tables(saved: dict[str, Any]) -> None:
    folder = state.StateDir(saved["dir"] / "state")
    snapshot = folder.load()
    assert snapshot is not None
    with mock_aws():
        provision()
        state.restore(folder, snapshot, SCOPE)
        glue = boto3.client("glue", region_name="us-east-1")
        table = glue.get_table(DatabaseName=DATABASE, Name="sales_0123")["Table"]
        assert table["StorageDescriptor"] == GLUE_TABLE["StorageDescriptor"]
        assert table["Parameters"] == GLUE_TABLE["Parameters"]
    folder.close()


def test_objects_are_written_once_and_removed_when_no_snapshot_names_them(
    tmp_path: Path,
) -> None:
    with mock_aws():
        provision()
        s3 = clients()[1]
        s3.put_object(Bucket=BUCKET, Key="a", Body=b"one")
        folder = state.StateDir(tmp_path)
        snapshotter = state.Snapshotter(folder, SCOPE)
        snapshotter.save()
        (first,) = (tmp_path / "objects").iterdir()
        written = first.stat().st_mtime_ns
        s3.put_object(Bucket=BUCKET, Key="b", Body=b"two")
        snapshotter.save()
        assert first.stat().st_mtime_ns == written  # not written again
        s3.put_object(Bucket=BUCKET, Key="a", Body=b"three")
        s3.delete_object(Bucket=BUCKET, Key="b")
        snapshotter.save()
        (only,) = (tmp_path / "objects").iterdir()
        assert only.read_bytes() == b"three"
        assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        folder.close()


def test_a_folder_is_held_by_one_process_at_a_time(tmp_path: Path) -> None:
    held = state.StateDir(tmp_path)
    with pytest.raises(state.StateError, match="in use by another sluice local"):
        state.StateDir(tmp_path)
    held.close()
    state.StateDir(tmp_path).close()


def test_a_snapshot_from_another_moto_is_refused(saved: dict[str, Any]) -> None:
    folder = state.StateDir(saved["dir"] / "state")
    snapshot = folder.load()
    assert snapshot is not None
    snapshot.moto_version = "0.0.1"
    folder.snapshot_path.write_bytes(pickle.dumps(snapshot))
    with pytest.raises(state.StateError, match=r"saved with moto 0\.0\.1"):
        folder.load()
    folder.close()
