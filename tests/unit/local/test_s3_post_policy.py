"""sluice.local.patches.s3_post_policy: the embedded S3 checks a presigned POST's policy
and signature, and answers as S3 does."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from sluice.local.patches import s3_post_policy

from tests.unit.local.s3_server import own_bucket

MAX_BYTES = 100


@pytest.fixture(scope="module")
def s3_bucket() -> Iterator[tuple[Any, str]]:
    """An empty bucket on a moto server of its own; yields (client, bucket)."""
    s3_post_policy.install()
    s3_post_policy.trust("test", "test")  # the key pair own_bucket's client presigns with
    with own_bucket() as (client, bucket):
        # SigV4, as sluice.aws presigns (the default in us-east-1 is still V2 for POSTs).
        yield (
            boto3.client(
                "s3",
                endpoint_url=client.meta.endpoint_url,
                region_name="us-east-1",
                aws_access_key_id="test",
                aws_secret_access_key="test",
                config=Config(signature_version="s3v4"),
            ),
            bucket,
        )


def _presigned(client: Any, bucket: str, key: str, expires_in: int = 600) -> dict[str, Any]:
    post: dict[str, Any] = client.generate_presigned_post(
        Bucket=bucket,
        Key=key,
        Conditions=[["content-length-range", 1, MAX_BYTES]],
        ExpiresIn=expires_in,
    )
    return post


def _send(
    post: dict[str, Any], changed: dict[str, str] | None = None, body: bytes = b"a,b\n1,2\n"
) -> requests.Response:
    """POST the file with the presigned fields, some ``changed``."""
    fields = {**post["fields"], **(changed or {})}
    return requests.post(post["url"], data=fields, files={"file": body}, timeout=30)


def _error(answer: requests.Response) -> dict[str, str]:
    return {element.tag: element.text or "" for element in ET.fromstring(answer.content)}


def _stored(client: Any, bucket: str, key: str) -> bool:
    return bool(client.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount"))


def test_a_presigned_post_as_issued_lands(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    answer = _send(_presigned(client, bucket, "uploads/as-issued.csv"))
    assert answer.status_code == 204
    assert client.get_object(Bucket=bucket, Key="uploads/as-issued.csv")["Body"].read() == (
        b"a,b\n1,2\n"
    )


def test_a_post_whose_key_was_changed_is_403_and_stores_nothing(
    s3_bucket: tuple[Any, str],
) -> None:
    client, bucket = s3_bucket
    answer = _send(_presigned(client, bucket, "uploads/mine.csv"), {"key": "uploads/theirs.csv"})
    assert answer.status_code == 403
    assert _error(answer)["Code"] == "AccessDenied"
    assert _error(answer)["Message"] == (
        'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "uploads/mine.csv"]'
    )
    assert not _stored(client, bucket, "uploads/theirs.csv")
    assert not _stored(client, bucket, "uploads/mine.csv")


def test_an_expired_policy_is_403(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    answer = _send(_presigned(client, bucket, "uploads/expired.csv", expires_in=0))
    assert answer.status_code == 403
    assert _error(answer)["Message"] == "Invalid according to Policy: Policy expired."
    assert not _stored(client, bucket, "uploads/expired.csv")


def test_a_file_over_the_content_length_range_is_entity_too_large(
    s3_bucket: tuple[Any, str],
) -> None:
    client, bucket = s3_bucket
    answer = _send(_presigned(client, bucket, "uploads/large.csv"), body=b"x" * (MAX_BYTES + 1))
    assert answer.status_code == 400
    error = _error(answer)
    assert (error["Code"], error["ProposedSize"], error["MaxSizeAllowed"]) == (
        "EntityTooLarge",
        str(MAX_BYTES + 1),
        str(MAX_BYTES),
    )
    assert not _stored(client, bucket, "uploads/large.csv")


def test_an_empty_file_under_the_range_is_entity_too_small(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    answer = _send(_presigned(client, bucket, "uploads/empty.csv"), body=b"")
    assert answer.status_code == 400
    assert _error(answer)["Code"] == "EntityTooSmall"


def test_a_tampered_signature_is_signature_does_not_match(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    post = _presigned(client, bucket, "uploads/signed.csv")
    signature = post["fields"]["x-amz-signature"]
    forged = ("0" if signature[0] != "0" else "1") + signature[1:]
    answer = _send(post, {"x-amz-signature": forged})
    assert answer.status_code == 403
    assert _error(answer)["Code"] == "SignatureDoesNotMatch"
    assert not _stored(client, bucket, "uploads/signed.csv")


def test_a_policy_rewritten_under_its_old_signature_is_refused(
    s3_bucket: tuple[Any, str],
) -> None:
    client, bucket = s3_bucket
    post = _presigned(client, bucket, "uploads/mine-too.csv")
    policy = json.loads(base64.b64decode(post["fields"]["policy"]))
    policy["conditions"] = [
        {"key": "uploads/theirs-too.csv"} if isinstance(c, dict) and "key" in c else c
        for c in policy["conditions"]
    ]
    rewritten = base64.b64encode(json.dumps(policy).encode()).decode()
    answer = _send(post, {"key": "uploads/theirs-too.csv", "policy": rewritten})
    assert answer.status_code == 403
    assert _error(answer)["Code"] == "SignatureDoesNotMatch"
    assert not _stored(client, bucket, "uploads/theirs-too.csv")


def test_a_field_the_policy_does_not_name_is_403(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    answer = _send(_presigned(client, bucket, "uploads/extra.csv"), {"Content-Type": "text/csv"})
    assert answer.status_code == 403
    assert (
        _error(answer)["Message"] == "Invalid according to Policy: Extra input fields: Content-Type"
    )


def test_a_post_without_a_policy_is_access_denied(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    url = _presigned(client, bucket, "uploads/anonymous.csv")["url"]
    answer = requests.post(
        url, data={"key": "uploads/anonymous.csv"}, files={"file": b"a\n1\n"}, timeout=30
    )
    assert (answer.status_code, _error(answer)["Code"]) == (403, "AccessDenied")
    assert not _stored(client, bucket, "uploads/anonymous.csv")


def test_an_unknown_access_key_is_invalid_access_key_id(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    post = _presigned(client, bucket, "uploads/stranger.csv")
    credential = post["fields"]["x-amz-credential"].replace("test/", "AKIASTRANGER/", 1)
    answer = _send(post, {"x-amz-credential": credential})
    assert (answer.status_code, _error(answer)["Code"]) == (403, "InvalidAccessKeyId")


def test_a_signature_version_2_post_is_checked_too(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    v2 = boto3.client(
        "s3",
        endpoint_url=client.meta.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(signature_version="s3"),
    )
    post = _presigned(v2, bucket, "uploads/v2.csv")
    assert "AWSAccessKeyId" in post["fields"]
    assert _send(post, {"key": "uploads/v2-elsewhere.csv"}).status_code == 403
    assert _send(post, {"signature": "AAAA" + post["fields"]["signature"][4:]}).status_code == 403
    assert _send(post).status_code == 204


def test_a_multi_object_delete_is_not_a_form_post(s3_bucket: tuple[Any, str]) -> None:
    client, bucket = s3_bucket
    client.put_object(Bucket=bucket, Key="uploads/to-delete.csv", Body=b"a\n")
    client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "uploads/to-delete.csv"}]})
    assert not _stored(client, bucket, "uploads/to-delete.csv")


def test_without_the_patch_moto_stores_a_post_under_a_changed_key(
    s3_bucket: tuple[Any, str],
) -> None:
    client, bucket = s3_bucket
    s3_post_policy.uninstall()
    try:
        answer = _send(
            _presigned(client, bucket, "uploads/a.csv"), {"key": "uploads/elsewhere.csv"}
        )
    finally:
        s3_post_policy.install()
    assert answer.status_code == 204
    assert _stored(client, bucket, "uploads/elsewhere.csv")
