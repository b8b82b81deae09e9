"""cdk-nag's AwsSolutions checks, and the findings the stack accepts, each with its reason.

``infra.app`` applies the checks to the app, so ``cdk synth`` and ``cdk deploy`` fail on
a finding nobody explained; ``tests/infra/test_nag.py`` asserts the same. A finding is
accepted only on the construct it is about, and a wildcard IAM finding only for the
entry it names (``applies_to``): a new wildcard elsewhere is a new finding.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnElement, Stack
from cdk_nag import NagPackSuppression, NagSuppressions, RegexAppliesTo
from constructs import IConstruct

RULE_PREFIX = "AwsSolutions-"

XRAY = (
    "X-Ray's PutTraceSegments and PutTelemetryRecords (active tracing; for a state "
    "machine also GetSamplingRules and GetSamplingTargets) take no resource ARN: IAM "
    "accepts only '*' for them"
)
XRAY_AND_LOG_DELIVERY = (
    f"{XRAY}, and so do CloudWatch Logs' log delivery actions (CreateLogDelivery and the "
    "rest), with which Step Functions sends a state machine's log to its log group"
)


def accept(
    construct: IConstruct,
    rule: str,
    reason: str,
    *,
    applies_to: Sequence[str | RegexAppliesTo] = (),
    children: bool = False,
) -> None:
    """Accept AwsSolutions-``rule`` on ``construct`` (and its children, with ``children``)."""
    NagSuppressions.add_resource_suppressions(
        construct,
        [
            NagPackSuppression(
                id=f"{RULE_PREFIX}{rule}", reason=reason, applies_to=list(applies_to) or None
            )
        ],
        apply_to_children=children,
    )


def accept_wildcards(
    grantee: IConstruct, reason: str, applies_to: Sequence[str | RegexAppliesTo]
) -> None:
    """Accept AwsSolutions-IAM5 for exactly ``applies_to`` in the default policy of
    ``grantee`` (a role), where CDK's grants write their statements."""
    policy = grantee.node.try_find_child("DefaultPolicy")
    if policy is None:
        raise ValueError(f"{grantee.node.path} has no policy to accept wildcards in")
    accept(policy, "IAM5", reason, applies_to=applies_to)


def logical_id(construct: IConstruct) -> str:
    """The logical id of ``construct``'s L1 resource, as cdk-nag writes it in a finding."""
    resource = construct.node.default_child
    if not isinstance(resource, CfnElement):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource")
    found: str = Stack.of(resource).resolve(resource.logical_id)
    return found


def arn_wildcard(construct: IConstruct, suffix: str) -> str:
    """The finding for ``<construct>.Arn`` followed by ``suffix`` (``/*``, ``:*``)."""
    return f"Resource::<{logical_id(construct)}.Arn>{suffix}"


def executions_wildcard(machine: IConstruct) -> RegexAppliesTo:
    """The finding for ``machine``'s executions (``...:execution:<name>:*``).

    CDK builds the name from the machine's ARN with ``Fn::Select``/``Fn::Split``, which
    cdk-nag writes out as JSON; the pattern anchors on the machine's logical id in it.
    """
    return RegexAppliesTo(
        regex=f'/^Resource::arn:.*:execution:.*"Ref":"{logical_id(machine)}".*:\\*$/'
    )
