"""cdk-nag's AwsSolutions checks on the synthesised stack: no finding left unexplained.

``infra.app.build_app`` applies the checks, so the shared stack (tests/infra/conftest.py)
carries their findings as annotations; each finding the stack accepts names its reason
in the template's metadata (``infra/constructs/nag.py``).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from aws_cdk import CfnElement
from aws_cdk.assertions import Annotations, Match, Template

from infra.constructs.nag import RULE_PREFIX
from infra.stack import SluiceStack
from tests.infra.conftest import Resources

pytestmark = pytest.mark.infra

# Actions for which IAM accepts no resource but "*": X-Ray's, the log delivery with
# which Step Functions writes a state machine's log, and ECR's sign-in.
RESOURCELESS_ACTIONS = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
        "ecr:GetAuthorizationToken",  # a container task's execution role pulling its image
    }
)


def _findings(stack: SluiceStack) -> list[str]:
    annotations = Annotations.from_stack(stack)
    rule = Match.string_like_regexp(f"{RULE_PREFIX}.*")
    found = [*annotations.find_error("*", rule), *annotations.find_warning("*", rule)]
    return [f"{message.id}: {str(message.entry.data)[:160]}" for message in found]


def _suppressions(resources: Resources) -> list[tuple[str, dict[str, Any]]]:
    return [
        (key, rule)
        for key, resource in resources.items()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]


def test_the_stack_has_no_unexplained_aws_solutions_finding(stack: SluiceStack) -> None:
    assert _findings(stack) == []


def test_every_accepted_finding_says_why(resources: Resources) -> None:
    suppressions = _suppressions(resources)
    assert suppressions
    for key, rule in suppressions:
        assert rule["id"].startswith(RULE_PREFIX), key
        assert len(rule["reason"].split()) >= 8, (key, rule)


# How cdk-nag notes a finding it was told to accept (AwsSolutionsChecks(log_ignores=True)).
ACCEPTED = re.compile(r"CdkNagSuppression(?:\[(?P<entry>.*)\])?: (?P<rule>\S+) was triggered")


def test_each_acceptance_answers_a_finding(stack: SluiceStack, resources: Resources) -> None:
    # An acceptance that outlived its finding would wave through the next one unread.
    raised: dict[str, set[tuple[str, str | None]]] = {}
    for message in Annotations.from_stack(stack).find_info("*", Match.any_value()):
        if found := ACCEPTED.match(str(message.entry.data)):
            raised.setdefault(message.id, set()).add((found["rule"], found["entry"]))
    paths = {
        stack.resolve(element.logical_id): f"/{element.node.path}"
        for element in stack.node.find_all()
        if isinstance(element, CfnElement)
    }
    for key, rule in _suppressions(resources):
        there = raised.get(paths[key], set())
        entries = rule.get("applies_to") or [None]
        for entry in entries:
            if isinstance(entry, dict):  # a pattern: some entry of the rule matches it
                pattern = re.compile(entry["regex"].strip("/").removesuffix("/g"))
                matched = [e for r, e in there if r == rule["id"] and e and pattern.match(e)]
                assert matched, (key, rule["id"], entry)
            else:
                assert (rule["id"], entry) in there, (key, rule["id"], entry)


def test_wildcard_iam_findings_are_accepted_entry_by_entry(resources: Resources) -> None:
    # A blanket IAM5 would also hide the next wildcard someone adds.
    for key, rule in _suppressions(resources):
        if rule["id"] == f"{RULE_PREFIX}IAM5" or rule["id"] == f"{RULE_PREFIX}IAM4":
            assert rule.get("applies_to"), (key, rule)


def test_only_actions_that_take_no_resource_are_allowed_on_every_resource(
    template: Template,
) -> None:
    # The "Resource::*" the functions' and state machines' roles are accepted with.
    for key, policy in template.find_resources("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Resource"] != "*":
                continue
            actions = statement["Action"]
            actions = {actions} if isinstance(actions, str) else set(actions)
            if key.startswith("BucketNotificationsHandler"):
                assert actions == {"s3:PutBucketNotification"}
            else:
                assert actions <= RESOURCELESS_ACTIONS, (key, actions)
