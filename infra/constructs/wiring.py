"""Catalogue references (``Ref``) and grants (``Grant``) turned into CDK values and IAM."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from cdk_nag import RegexAppliesTo
from constructs import Construct
from sluice.catalog import Access, Grant, Ref

from infra.constructs.nag import accept_wildcards, arn_wildcard, executions_wildcard
from infra.constructs.query_catalog import GlueDatabase

# Item-level actions only. CDK's grant_read_data would add Scan, and a Scan of the one
# owner-keyed table reads every user's records: sluice reads by key and Query only.
TABLE_READ_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
)
TABLE_WRITE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
)

# A Glue database's tables: the one read and the three writes that registering, updating
# and removing a dataset's table take; nothing of its partitions, the database or others.
GLUE_READ_ACTIONS = ("glue:GetTable",)
GLUE_WRITE_ACTIONS = ("glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable")

STATES_READ_ACTIONS = ("states:DescribeExecution",)
STATES_STOP_ACTIONS = ("states:StopExecution",)

# The action groups of CDK's bucket grants that AwsSolutions-IAM5 reports as wildcards.
BUCKET_READ_WILDCARDS = ("s3:GetObject*", "s3:GetBucket*", "s3:List*")
BUCKET_WRITE_WILDCARDS = ("s3:DeleteObject*", "s3:Abort*")

BUCKET_GRANT_REASON = (
    "CDK's bucket grant on one catalogued bucket: s3:GetObject*, s3:GetBucket*, s3:List* "
    "to read and s3:DeleteObject*, s3:Abort* to write are the object and multipart actions "
    "of that access (ranged GETs, HEADs, listings, parts), and '<bucket>/*' because object "
    "keys (<prefix>/<owner>/<dataset>/...) are made at run time; no other bucket is named"
)
EXECUTION_REASON = (
    "states:DescribeExecution (and StopExecution) on the executions of one catalogued state "
    "machine ('execution:<machine>:*'): execution names are made at run time "
    "(dataset-upload-etag); no other state machine's executions are named"
)
GLUE_TABLES_REASON = (
    "glue table actions on the tables of one catalogued Glue database "
    "('table/<database>/*'): a table is named after its dataset when it becomes ready; "
    "no other database's tables are named"
)
INVOKE_REASON = (
    "lambda:InvokeFunction on one catalogued function and its versions and aliases "
    "('<function>:*', as CDK's grant_invoke names them); no other function is named"
)

T = TypeVar("T")


class CatalogWiringError(ValueError):
    """The catalogue asks for a reference or a grant this stack cannot express."""


@dataclass(frozen=True)
class Resources:
    """The stack's resources by catalogue name: what a ``Ref`` can point at."""

    tables: Mapping[str, dynamodb.ITable]
    buckets: Mapping[str, s3.IBucket]
    state_machines: Mapping[str, sfn.IStateMachine]
    user_pool_name: str
    user_pool: cognito.IUserPool
    user_pool_client: cognito.IUserPoolClient
    functions: Mapping[str, lambda_.IFunction] = field(default_factory=dict)
    # The container tasks' task definition ARNs by name, their cluster and network.
    container_tasks: Mapping[str, str] = field(default_factory=dict)
    cluster: str = ""
    subnets: str = ""
    security_groups: str = ""
    glue_databases: Mapping[str, GlueDatabase] = field(default_factory=dict)

    def resolve(self, ref: Ref) -> str:
        """The value a function's environment variable gets for ``ref`` (a name, ARN or id)."""
        match ref.kind:
            case "table":
                return self._lookup(self.tables, ref).table_name
            case "bucket":
                return self._lookup(self.buckets, ref).bucket_name
            case "state_machine":
                return self._lookup(self.state_machines, ref).state_machine_arn
            case "function":
                return self._lookup(self.functions, ref).function_arn
            case "user_pool":
                self._check_user_pool(ref)
                return self.user_pool.user_pool_id
            case "user_pool_client":
                self._check_user_pool(ref)
                return self.user_pool_client.user_pool_client_id
            case "container_task":
                return self._lookup(self.container_tasks, ref)
            case "cluster" | "subnets" | "security_groups" if self.cluster:
                return {"cluster": self.cluster, "subnets": self.subnets}.get(
                    ref.kind, self.security_groups
                )
            case "glue_database":
                return self._lookup(self.glue_databases, ref).ref
            case "value":
                return ref.name
        raise CatalogWiringError(f"unknown reference kind {ref.kind!r} (to {ref.name!r})")

    def grant(self, grantee: iam.IGrantable, grant: Grant) -> None:
        """Give ``grantee`` the least IAM that ``grant`` asks for."""
        target, access = grant.target, grant.access
        reads = access in (Access.READ, Access.READ_WRITE)
        writes = access in (Access.WRITE, Access.READ_WRITE)
        match target.kind:
            case "table":
                table = self._lookup(self.tables, target)
                actions = (
                    (TABLE_READ_ACTIONS if reads else ())
                    + (TABLE_WRITE_ACTIONS if writes else ())
                    + (("dynamodb:Scan",) if grant.scan else ())
                )
                table.grant(grantee, *actions)
            case "bucket":
                bucket = self._lookup(self.buckets, target)
                # A prefix narrows the grant to its keys (the trainer's datasets/ and training/).
                keys = f"{grant.prefix or ''}*"
                if access is Access.READ_WRITE:
                    bucket.grant_read_write(grantee, keys)
                elif reads:
                    bucket.grant_read(grantee, keys)
                else:
                    # CDK's "write" is put and delete: the catalogue's WRITE changes objects.
                    bucket.grant_write(grantee, keys)
                actions = (BUCKET_READ_WILDCARDS if reads else ()) + (
                    BUCKET_WRITE_WILDCARDS if writes else ()
                )
                _accept_wildcards(
                    grantee,
                    BUCKET_GRANT_REASON,
                    [*(f"Action::{a}" for a in actions), arn_wildcard(bucket, f"/{keys}")],
                )
            case "state_machine":
                machine = self._lookup(self.state_machines, target)
                if writes:
                    machine.grant_start_execution(grantee)
                # Reading is an execution's status (DescribeExecution); CDK's grant_read
                # would add listing executions and describing any state machine or activity
                # in the account ("*"). READ_WRITE stops too: deleting a dataset stops its
                # running ingest.
                execution_actions = (STATES_READ_ACTIONS if reads else ()) + (
                    STATES_STOP_ACTIONS if access is Access.READ_WRITE else ()
                )
                if execution_actions:
                    machine.grant_execution(grantee, *execution_actions)
                    _accept_wildcards(grantee, EXECUTION_REASON, [executions_wildcard(machine)])
            case "glue_database":
                # IAM checks a table action against the catalog, the database and the
                # table alike, so the grant names all three.
                database = self._lookup(self.glue_databases, target)
                iam.Grant.add_to_principal(
                    grantee=grantee,
                    actions=[
                        *(GLUE_READ_ACTIONS if reads else ()),
                        *(GLUE_WRITE_ACTIONS if writes else ()),
                    ],
                    resource_arns=[
                        database.catalog_arn,
                        database.database_arn,
                        database.tables_arn,
                    ],
                )
                _accept_wildcards(
                    grantee,
                    GLUE_TABLES_REASON,
                    [RegexAppliesTo(regex=f"/^Resource::arn:.*:table\\/{database.name}\\/\\*$/")],
                )
            case "function" if access is Access.WRITE:
                # lambda:InvokeFunction on the function and its versions (ARN:*).
                function = self._lookup(self.functions, target)
                function.grant_invoke(grantee)
                _accept_wildcards(grantee, INVOKE_REASON, [arn_wildcard(function, ":*")])
            case "user_pool" if access is Access.READ:
                # Nothing to grant: the API signs users in with InitiateAuth (and refreshes
                # with REFRESH_TOKEN_AUTH) on a public client, and Cognito serves those
                # calls without AWS credentials, so IAM never sees them.
                self._check_user_pool(target)
            case _:
                raise CatalogWiringError(
                    f"no least-privilege IAM for {access.value} access to "
                    f"{target.kind} {target.name!r}"
                )

    def _check_user_pool(self, ref: Ref) -> None:
        if ref.name != self.user_pool_name:
            raise CatalogWiringError(
                f"{ref.kind} {ref.name!r}: the catalogue's user pool is {self.user_pool_name!r}"
            )

    @staticmethod
    def _lookup(resources: Mapping[str, T], ref: Ref) -> T:
        try:
            return resources[ref.name]
        except KeyError:
            known = ", ".join(sorted(resources)) or "none"
            raise CatalogWiringError(
                f"{ref.kind} {ref.name!r} is not in the catalogue (known: {known})"
            ) from None


def _accept_wildcards(
    grantee: iam.IGrantable, reason: str, applies_to: list[str | RegexAppliesTo]
) -> None:
    """Accept AwsSolutions-IAM5 for exactly ``applies_to`` in the policy of ``grantee``'s role."""
    principal = grantee.grant_principal
    if not isinstance(principal, Construct):
        raise CatalogWiringError(f"cannot record why {principal} gets wildcards: not a construct")
    accept_wildcards(principal, reason, applies_to)
