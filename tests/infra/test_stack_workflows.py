"""The state machines and the S3 notifications in the synthesised stack: each ASL file's
substitutions, its definition inline, its logs, its role, and what starts it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk.assertions import Template
from sluice.catalog import CATALOG

from infra.stack import SluiceStack
from tests.infra.conftest import Resources
from tests.infra.stack_queries import (
    function_id,
    getatt_id,
    logical_id,
    role_actions,
)

pytestmark = pytest.mark.infra


def test_state_machine_substitutes_every_asl_placeholder_with_its_function_arn(
    stack: SluiceStack, resources: Resources
) -> None:
    for spec in CATALOG.state_machines:
        asl = spec.definition_path.read_text(encoding="utf-8")
        props = resources[logical_id(stack, stack.workflows.by_name[spec.name])]["Properties"]
        assert set(props["DefinitionSubstitutions"]) == set(re.findall(r"\$\{(\w+)\}", asl))
        assert props["DefinitionSubstitutions"] == {
            key: {"Fn::GetAtt": [function_id(stack, name), "Arn"]}
            for key, name in spec.functions.items()
        }


def test_state_machine_definition_is_inline_in_the_template(
    stack: SluiceStack, resources: Resources
) -> None:
    for spec in CATALOG.state_machines:
        props = resources[logical_id(stack, stack.workflows.by_name[spec.name])]["Properties"]
        assert "DefinitionS3Location" not in props
        assert isinstance(props["DefinitionString"], str)
        assert json.loads(props["DefinitionString"]) == json.loads(
            spec.definition_path.read_text(encoding="utf-8")
        )


def test_state_machine_logs_errors_and_is_traced(stack: SluiceStack, resources: Resources) -> None:
    for machine in stack.workflows.by_name.values():
        props = resources[logical_id(stack, machine)]["Properties"]
        assert props["LoggingConfiguration"]["Level"] == "ERROR"
        assert props["TracingConfiguration"] == {"Enabled": True}


def test_state_machine_role_may_invoke_exactly_the_functions_it_substitutes(
    stack: SluiceStack, resources: Resources
) -> None:
    for spec in CATALOG.state_machines:
        props = resources[logical_id(stack, stack.workflows.by_name[spec.name])]["Properties"]
        pairs = role_actions(resources, props["RoleArn"]["Fn::GetAtt"][0])
        invoked = {
            getatt_id(target) for action, target in pairs if action == "lambda:InvokeFunction"
        }
        assert invoked == {function_id(stack, name) for name in spec.functions.values()}


def test_upload_notification_invokes_its_function_for_objects_created_under_the_prefix(
    stack: SluiceStack, template: Template
) -> None:
    by_bucket: dict[str, list[Any]] = {}
    for spec in CATALOG.notifications:  # one configuration per bucket, a rule per prefix
        by_bucket.setdefault(spec.bucket, []).append(
            {
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": spec.prefix}]}},
                "LambdaFunctionArn": {"Fn::GetAtt": [function_id(stack, spec.function), "Arn"]},
            }
        )
    for bucket, configurations in by_bucket.items():
        template.has_resource_properties(
            "Custom::S3BucketNotifications",
            {
                "BucketName": {"Ref": logical_id(stack, stack.storage.buckets[bucket])},
                "NotificationConfiguration": {"LambdaFunctionConfigurations": configurations},
            },
        )
