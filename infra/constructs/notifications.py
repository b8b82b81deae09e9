"""S3 ObjectCreated notifications that invoke functions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from sluice.catalog import NotificationSpec

from infra.constructs.functions import Functions


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
    for spec in specs:
        buckets[spec.bucket].add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.LambdaDestination(functions[spec.function]),
            s3.NotificationKeyFilter(prefix=spec.prefix),
        )
