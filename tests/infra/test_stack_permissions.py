"""Least privilege in the synthesised stack: what each function's and task's role may do
(the table's Scan, the buckets, the state machines, Glue, Cognito)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from sluice.catalog import CATALOG, Access, Grant, user_pool

from infra.constructs.wiring import CatalogWiringError
from infra.constructs.wiring import Resources as WiringResources
from infra.stack import SluiceStack
from tests.infra.conftest import Resources
from tests.infra.stack_queries import (
    function_id,
    function_role_id,
    logical_id,
    role_actions,
)

pytestmark = pytest.mark.infra


def test_on_model_upload_may_start_only_the_import_state_machine(
    stack: SluiceStack, resources: Resources
) -> None:
    role = function_role_id(resources, function_id(stack, "on_model_upload"))
    import_id = logical_id(stack, stack.workflows.by_name["import_model"])
    assert [(a, t) for a, t in role_actions(resources, role) if a.startswith("states:")] == [
        ("states:StartExecution", {"Ref": import_id})
    ]


def test_scan_chunk_role_cannot_scan_the_table_or_change_uploads(
    stack: SluiceStack, resources: Resources
) -> None:
    pairs = role_actions(
        resources, function_role_id(resources, function_id(stack, "ingest_scan_chunk"))
    )
    actions = {action for action, _ in pairs}
    assert "dynamodb:Scan" not in actions
    assert not {a for a in actions if a.startswith(("states:", "lambda:", "cognito-idp:"))}
    # It writes its chunk statistics to the data bucket, and changes nothing else.
    uploads_id = logical_id(stack, stack.storage.buckets["uploads"])
    data_id = logical_id(stack, stack.storage.buckets["data"])
    writes = [t for a, t in pairs if a.startswith(("s3:Put", "s3:Delete", "s3:Abort"))]
    assert writes and all(data_id in json.dumps(t) for t in writes)
    assert all(uploads_id not in json.dumps(t) for t in writes)


@pytest.mark.parametrize("name", [spec.name for spec in CATALOG.functions])
def test_only_the_catalog_backfill_may_scan_the_records_table(
    stack: SluiceStack, resources: Resources, name: str
) -> None:
    pairs = role_actions(resources, function_role_id(resources, function_id(stack, name)))
    assert ("dynamodb:Scan" in {action for action, _ in pairs}) == (name == "catalog_backfill")


@pytest.mark.parametrize("name", ["networks_import", "on_model_upload"])
def test_the_import_functions_touch_only_the_model_files_of_the_uploads_bucket(
    stack: SluiceStack, resources: Resources, name: str
) -> None:
    pairs = role_actions(resources, function_role_id(resources, function_id(stack, name)))
    uploads_id = logical_id(stack, stack.storage.buckets["uploads"])
    data_id = logical_id(stack, stack.storage.buckets["data"])
    objects = [t for a, t in pairs if a.startswith("s3:") and "/" in json.dumps(t)]
    assert objects and all(uploads_id in json.dumps(t) for t in objects)
    assert all("/imports/*" in json.dumps(t) for t in objects)
    assert all(data_id not in json.dumps(t) for _, t in pairs)


def test_on_upload_may_start_only_the_ingest_state_machine(
    stack: SluiceStack, resources: Resources
) -> None:
    pairs = role_actions(resources, function_role_id(resources, function_id(stack, "on_upload")))
    ingest_id = logical_id(stack, stack.workflows.by_name["ingest_dataset"])
    assert [(a, t) for a, t in pairs if a.startswith("states:")] == [
        ("states:StartExecution", {"Ref": ingest_id})
    ]


def glue_arn(resource: str) -> dict[str, Any]:
    """A Glue ARN of the stack's account and region, as the template writes it."""
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":glue:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":{resource}",
            ],
        ]
    }


def test_the_glue_database_is_named_after_the_stack_and_goes_with_it(
    stack: SluiceStack, resources: Resources
) -> None:
    database = resources[logical_id(stack, stack.query_catalog.resources["datasets"])]
    assert database["Properties"]["DatabaseInput"]["Name"] == "sluice_datasets"
    assert database["Properties"]["CatalogId"] == {"Ref": "AWS::AccountId"}
    assert database["DeletionPolicy"] == "Delete"


def glue_grants(resources: Resources, role_id: str) -> list[tuple[str, str]]:
    """The Glue (action, resource) pairs the role may use, sorted."""
    return sorted(
        (action, json.dumps(target, sort_keys=True))
        for action, target in role_actions(resources, role_id)
        if action.startswith("glue:")
    )


DATASET_TABLE_GRANTS = sorted(
    (action, json.dumps(glue_arn(target), sort_keys=True))
    for action in ("glue:CreateTable", "glue:DeleteTable", "glue:GetTable", "glue:UpdateTable")
    for target in ("catalog", "database/sluice_datasets", "table/sluice_datasets/*")
)
"""Exactly what registering, updating and removing a dataset's table takes."""


@pytest.mark.parametrize("name", [spec.name for spec in CATALOG.functions])
def test_only_the_finishes_and_the_api_may_change_the_datasets_tables_and_nothing_else_of_glue(
    stack: SluiceStack, resources: Resources, name: str
) -> None:
    granted = glue_grants(resources, function_role_id(resources, function_id(stack, name)))
    touching = ("api", "ingest_finish", "operation_finish", "catalog_backfill")
    assert granted == (DATASET_TABLE_GRANTS if name in touching else [])


@pytest.mark.parametrize("name", [spec.name for spec in CATALOG.container_tasks])
def test_of_the_container_tasks_only_the_predictor_registers_its_datasets_table(
    stack: SluiceStack, resources: Resources, name: str
) -> None:
    assert stack.container_tasks is not None
    role = stack.container_tasks.by_name[name].definition.task_role
    granted = glue_grants(resources, logical_id(stack, role))
    assert granted == (DATASET_TABLE_GRANTS if name == "predictor" else [])


def test_api_function_gets_no_cognito_permissions(stack: SluiceStack, resources: Resources) -> None:
    pairs = role_actions(resources, function_role_id(resources, function_id(stack, "api")))
    assert not [a for a, _ in pairs if a.startswith("cognito-idp:")]


def test_write_access_to_the_user_pool_is_refused_rather_than_granted_broadly() -> None:
    stack = Stack(App(), "Grants")
    pool = cognito.UserPool(stack, "Pool")
    wiring = WiringResources(
        tables={},
        buckets={},
        state_machines={},
        user_pool_name="users",
        user_pool=pool,
        user_pool_client=pool.add_client("Client"),
    )
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    with pytest.raises(CatalogWiringError, match="write access to user_pool"):
        wiring.grant(role, Grant(target=user_pool(), access=Access.WRITE))
