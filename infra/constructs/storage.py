"""DynamoDB tables and S3 buckets, one per catalogue entry."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct
from sluice.catalog import UPLOADS, BucketSpec, TableSpec

from infra.constructs.naming import pascal

BROWSER_UPLOAD_BUCKETS = frozenset({UPLOADS})
"""Buckets that browsers write to directly with presigned POST/PUT, so they need CORS.

The catalogue has no field for this yet (``BucketSpec.browser_uploads`` would carry
it); until then the uploads bucket is named here through the catalogue's constant.
"""

ACCESS_LOG_DAYS = 90
"""How long S3 keeps the server access logs of the catalogue's buckets."""


def _upload_cors() -> list[s3.CorsRule]:
    # Presigned POST/PUT carry their own authorisation, so any origin may send them;
    # ETag is exposed so that browser clients can confirm what landed.
    return [
        s3.CorsRule(
            allowed_methods=[s3.HttpMethods.POST, s3.HttpMethods.PUT],
            allowed_origins=["*"],
            allowed_headers=["*"],
            exposed_headers=["ETag"],
            max_age=3000,
        )
    ]


class Storage(Construct):
    """Every table and bucket of the catalogue, by catalogue name."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        tables: Iterable[TableSpec],
        buckets: Iterable[BucketSpec],
    ) -> None:
        super().__init__(scope, construct_id)
        self.tables: dict[str, dynamodb.Table] = {spec.name: self._table(spec) for spec in tables}
        self.access_logs = self._access_log_bucket()
        self.buckets: dict[str, s3.Bucket] = {spec.name: self._bucket(spec) for spec in buckets}

    def _table(self, spec: TableSpec) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            f"{pascal(spec.name)}Table",
            partition_key=dynamodb.Attribute(
                name=spec.partition_key, type=dynamodb.AttributeType.STRING
            ),
            sort_key=dynamodb.Attribute(name=spec.sort_key, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            # Users' records outlive the stack: deleting the stack must not delete them.
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _bucket(self, spec: BucketSpec) -> s3.Bucket:
        return s3.Bucket(
            self,
            f"{pascal(spec.name)}Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            cors=_upload_cors() if spec.name in BROWSER_UPLOAD_BUCKETS else None,
            # Who read or wrote which object, presigned requests included.
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{spec.name}/",
            versioned=spec.versioned,
            # Parts of abandoned multipart uploads are invisible but billed; so are the
            # versions a versioned bucket keeps of what is overwritten or deleted (sluice
            # deletes every version itself, this is the backstop).
            lifecycle_rules=[
                s3.LifecycleRule(
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                    noncurrent_version_expiration=(Duration.days(1) if spec.versioned else None),
                    expired_object_delete_marker=True if spec.versioned else None,
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )

    def _access_log_bucket(self) -> s3.Bucket:
        """Where S3 delivers the catalogue's buckets' server access logs (AWS only: the
        local system has no such logs, and the catalogue no such bucket). It logs no
        requests of its own, which would log each delivery; cdk-nag's S1 allows that of
        a bucket that other buckets log to."""
        return s3.Bucket(
            self,
            "AccessLogsBucket",
            # S3 delivers access logs only to a bucket encrypted with S3-managed keys.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(ACCESS_LOG_DAYS))],
            # A record of who touched the data outlives the stack, as the data does.
            removal_policy=RemovalPolicy.RETAIN,
        )
