"""Queries of the synthesised stack shared by its tests: logical ids, a role's rights."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from sluice.catalog import CATALOG

from infra.stack import SluiceStack
from tests.infra.conftest import Resources


def logical_id(stack: Stack, construct: Any) -> str:
    """The CloudFormation logical id of a construct's L1 resource."""
    node = construct if hasattr(construct, "logical_id") else construct.node.default_child
    return stack.resolve(node.logical_id)  # type: ignore[no-any-return]


def function_id(stack: SluiceStack, name: str) -> str:
    """The logical id of the Lambda function the catalogue calls ``name``."""
    return logical_id(stack, stack.functions[name])


def role_actions(resources: Resources, role_id: str) -> list[tuple[str, Any]]:
    """Every (action, resource) pair the IAM policies attached to ``role_id`` allow."""
    pairs: list[tuple[str, Any]] = []
    for resource in resources.values():
        props = resource.get("Properties", {})
        if resource["Type"] != "AWS::IAM::Policy" or {"Ref": role_id} not in props["Roles"]:
            continue
        for statement in props["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"]
            targets = statement["Resource"]
            for action in [actions] if isinstance(actions, str) else actions:
                for target in targets if isinstance(targets, list) else [targets]:
                    pairs.append((action, target))
    return pairs


def getatt_id(target: Any) -> str:
    """The logical id behind ``{"Fn::GetAtt": [id, "Arn"]}``, bare or with a ``:*`` suffix."""
    if "Fn::Join" in target:
        target = target["Fn::Join"][1][0]
    found: str = target["Fn::GetAtt"][0]
    return found


ZIP_FUNCTIONS = [spec for spec in CATALOG.functions if not spec.image]
"""The functions that run from the layers (the others are container images)."""


def function_role_id(resources: Resources, function_logical_id: str) -> str:
    """The logical id of the execution role of a function."""
    role_id: str = resources[function_logical_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    return role_id
