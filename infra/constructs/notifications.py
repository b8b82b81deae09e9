"""S3 ObjectCreated notifications that invoke functions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aws_cdk import Stack
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from sluice.catalog import NotificationSpec

from infra.constructs.functions import Functions
from infra.constructs.nag import accept

BASIC_EXECUTION_ROLE = (
    "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
)


def add_notifications(
    specs: Iterable[NotificationSpec],
    *,
    buckets: Mapping[str, s3.Bucket],
    functions: Functions,
) -> None:
    """Invoke each spec's function when an object is created under its bucket prefix.

    ``add_event_notification`` puts the configuration in a custom resource that runs
    after both the bucket and the function exist, so the function's own grants on the
    bucket do not make a dependency cycle.
    """
    stacks: list[Stack] = []
    for spec in specs:
        bucket = buckets[spec.bucket]
        bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.LambdaDestination(functions[spec.function]),
            s3.NotificationKeyFilter(prefix=spec.prefix),
        )
        if Stack.of(bucket) not in stacks:
            stacks.append(Stack.of(bucket))
    # CDK's one handler per stack, which writes the buckets' notification settings.
    for stack in stacks:
        for handler in stack.node.children:
            if handler.node.id.startswith("BucketNotificationsHandler"):
                accept(
                    handler.node.find_child("Role"),
                    "IAM4",
                    "CDK's own BucketNotificationsHandler, which CloudFormation runs to set "
                    "the buckets' notifications; its role is CDK's, with the basic execution "
                    "policy for its logs",
                    applies_to=[BASIC_EXECUTION_ROLE],
                )
