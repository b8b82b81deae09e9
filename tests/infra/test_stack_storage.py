"""The table and the buckets in the synthesised stack: keys, encryption, privacy,
access logs, CORS and versions."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template
from sluice.catalog import CATALOG, UPLOADS

from infra.constructs.storage import ACCESS_LOG_DAYS
from infra.stack import SluiceStack
from tests.infra.conftest import Resources
from tests.infra.stack_queries import (
    logical_id,
)

pytestmark = pytest.mark.infra


def test_tables_are_keyed_on_demand_recoverable_encrypted_and_retained(
    stack: SluiceStack, resources: Resources, template: Template
) -> None:
    template.resource_count_is("AWS::DynamoDB::Table", len(CATALOG.tables))
    for spec in CATALOG.tables:
        table = resources[logical_id(stack, stack.storage.tables[spec.name])]
        props = table["Properties"]
        assert props["KeySchema"] == [
            {"AttributeName": spec.partition_key, "KeyType": "HASH"},
            {"AttributeName": spec.sort_key, "KeyType": "RANGE"},
        ]
        assert props["AttributeDefinitions"] == [
            {"AttributeName": spec.partition_key, "AttributeType": "S"},
            {"AttributeName": spec.sort_key, "AttributeType": "S"},
        ]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"] == {"SSEEnabled": True}
        assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_buckets_are_encrypted_private_and_refuse_plain_http(
    stack: SluiceStack, resources: Resources, template: Template
) -> None:
    # The catalogue's buckets, and the one their server access logs go to.
    template.resource_count_is("AWS::S3::Bucket", len(CATALOG.buckets) + 1)
    for name, bucket in {**stack.storage.buckets, "access logs": stack.storage.access_logs}.items():
        bucket_id = logical_id(stack, bucket)
        props = resources[bucket_id]["Properties"]
        assert props["BucketEncryption"] == {
            "ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
            ]
        }, name
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, name
        assert resources[bucket_id]["DeletionPolicy"] == "Retain"
        template.has_resource_properties(
            "AWS::S3::BucketPolicy",
            {
                "Bucket": {"Ref": bucket_id},
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Effect": "Deny",
                                    "Action": "s3:*",
                                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                }
                            )
                        ]
                    )
                },
            },
        )


def test_each_catalogue_bucket_logs_its_requests_to_the_access_log_bucket(
    stack: SluiceStack, resources: Resources
) -> None:
    logs_id = logical_id(stack, stack.storage.access_logs)
    for name, bucket in stack.storage.buckets.items():
        props = resources[logical_id(stack, bucket)]["Properties"]
        assert props["LoggingConfiguration"] == {
            "DestinationBucketName": {"Ref": logs_id},
            "LogFilePrefix": f"{name}/",
        }
    assert "LoggingConfiguration" not in resources[logs_id]["Properties"]
    rules = resources[logs_id]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert [rule.get("ExpirationInDays") for rule in rules] == [ACCESS_LOG_DAYS]


def test_only_the_uploads_bucket_accepts_browser_post_and_put_from_any_origin(
    stack: SluiceStack, resources: Resources
) -> None:
    cors = {
        name: resources[logical_id(stack, bucket)]["Properties"].get("CorsConfiguration")
        for name, bucket in stack.storage.buckets.items()
    }
    rules = cors.pop(UPLOADS)["CorsRules"]
    assert [(r["AllowedMethods"], r["AllowedOrigins"]) for r in rules] == [(["POST", "PUT"], ["*"])]
    assert set(cors.values()) == {None}


def test_only_the_uploads_bucket_keeps_versions_and_forgets_them_after_a_day(
    stack: SluiceStack, resources: Resources
) -> None:
    props = {
        name: resources[logical_id(stack, bucket)]["Properties"]
        for name, bucket in stack.storage.buckets.items()
    }
    versioning = {name: p.get("VersioningConfiguration") for name, p in props.items()}
    assert versioning == {UPLOADS: {"Status": "Enabled"}, "data": None}
    [rule] = props[UPLOADS]["LifecycleConfiguration"]["Rules"]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    assert rule["ExpiredObjectDeleteMarker"] is True
