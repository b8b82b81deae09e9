"""The CDK stack, synthesised offline from the catalogue, and checked resource by resource.

The app is synthesised once per module in-process (the assertions) and once through
the pinned CDK CLI (``npx cdk synth`` then cfn-lint). The CLI runs ``python3 -m infra.app``
as ``cdk.json`` says, so the interpreter running these tests (the project's virtualenv)
is put first on PATH for it: run them as
``PATH=$PWD/.venv/bin:$PATH .venv/bin/pytest tests/infra``.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack, Stage
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Annotations, Match, Template
from sluice.catalog import CATALOG, PROJECT_ROOT, UPLOADS, Access, Grant, user_pool
from sluice.local.gateway import DEFAULT_PUBLIC_ROUTES, HEALTH_PATH

from infra.app import STACK_NAME, build_app, cdk_json_context
from infra.constructs.api import GATEWAY_ERRORS, PUBLIC_ROUTES
from infra.constructs.layers import MANAGED_LAYERS
from infra.constructs.storage import ACCESS_LOG_DAYS
from infra.constructs.wiring import CatalogWiringError
from infra.constructs.wiring import Resources as WiringResources
from infra.stack import SluiceStack
from tests.infra.conftest import Resources
from tests.support import run_command

pytestmark = pytest.mark.infra

CDK_CLI = PROJECT_ROOT / "node_modules" / ".bin" / "cdk"

# W3005 (DependsOn already implied by a GetAtt): CDK makes each function and state
# machine DependsOn its role *and* the role's default policy on purpose, so that nothing
# runs before its permissions exist; the role half of that pair is what W3005 reports.
CFN_LINT_IGNORED = ("W3005",)


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


def test_each_catalogue_function_is_one_lambda_with_its_handler_memory_and_timeout(
    stack: SluiceStack, resources: Resources
) -> None:
    for spec in ZIP_FUNCTIONS:
        props = resources[function_id(stack, spec.name)]["Properties"]
        assert (props["Handler"], props["MemorySize"], props["Timeout"]) == (
            spec.handler,
            spec.memory_mb,
            spec.timeout_s,
        )
        assert (props["Runtime"], props["Architectures"]) == ("python3.11", ["arm64"])
    sluice_layer = {"Ref": logical_id(stack, stack.layers.sluice)}
    sluice_functions = {
        key
        for key, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::Function"
        and sluice_layer in resource["Properties"].get("Layers", [])
    }
    assert sluice_functions == {function_id(stack, spec.name) for spec in ZIP_FUNCTIONS}


def test_an_image_function_runs_its_dockerfiles_image_with_its_handler(
    stack: SluiceStack, resources: Resources
) -> None:
    images = [spec for spec in CATALOG.functions if spec.image]
    assert [spec.name for spec in images] == ["networks", "networks_import", "training_predict"]
    codes = []
    for spec in images:
        props = resources[function_id(stack, spec.name)]["Properties"]
        assert props["PackageType"] == "Image" and "Layers" not in props
        assert props["ImageConfig"]["Command"] == [spec.handler]
        assert (props["MemorySize"], props["Timeout"]) == (spec.memory_mb, spec.timeout_s)
        assert props["Architectures"] == ["x86_64"]  # tensorflow-cpu's wheels
        codes.append(props["Code"])
    # Compile and import are one image (one build, one push), each its own handler.
    assert codes[0] == codes[1] != codes[2]


def test_an_images_build_context_is_the_library_and_its_function_only(
    stack: SluiceStack,
) -> None:
    app = Stage.of(stack)
    assert app is not None
    contexts = [
        path.parent for path in Path(app.outdir).glob("asset.*/functions/networks/Dockerfile")
    ]
    assert len(contexts) == 1
    context = contexts[0].parents[1]
    top = {path.name for path in context.iterdir()}
    assert top == {"functions", "layers", "pyproject.toml", "README.md"}
    assert {path.name for path in (context / "functions").iterdir()} == {"networks"}
    library = context / "layers/sluice/python/sluice"
    assert (library / "networks/manifests/layers.json").is_file()
    assert not {"local", "cli", "client"} & {path.name for path in library.iterdir()}


def test_function_environment_resolves_each_catalogue_reference(
    stack: SluiceStack, resources: Resources
) -> None:
    targets = {
        **{("table", n): {"Ref": logical_id(stack, t)} for n, t in stack.storage.tables.items()},
        **{("bucket", n): {"Ref": logical_id(stack, b)} for n, b in stack.storage.buckets.items()},
        **{
            ("state_machine", n): {"Ref": logical_id(stack, m)}
            for n, m in stack.workflows.by_name.items()
        },
        **{
            ("function", n): {"Fn::GetAtt": [logical_id(stack, f), "Arn"]}
            for n, f in stack.functions.by_name.items()
        },
        ("user_pool", "users"): {"Ref": logical_id(stack, stack.auth.user_pool)},
        ("user_pool_client", "users"): {"Ref": logical_id(stack, stack.auth.client)},
        **{
            ("glue_database", n): {"Ref": logical_id(stack, d)}
            for n, d in stack.query_catalog.resources.items()
        },
    }
    tasks = stack.container_tasks
    assert tasks is not None
    targets.update(
        {
            **{
                ("container_task", n): {"Ref": logical_id(stack, t.definition)}
                for n, t in tasks.by_name.items()
            },
            ("cluster", "tasks"): {"Fn::GetAtt": [logical_id(stack, tasks.cluster), "Arn"]},
            ("subnets", "tasks"): stack.resolve(tasks.subnet_ids),
            ("security_groups", "tasks"): {
                "Fn::GetAtt": [logical_id(stack, tasks.security_group), "GroupId"]
            },
        }
    )
    for spec in CATALOG.functions:
        expected = {
            key: ref.name if ref.kind == "value" else targets[(ref.kind, ref.name)]
            for key, ref in spec.environment.items()
        }
        props = resources[function_id(stack, spec.name)]["Properties"]
        assert props["Environment"]["Variables"] == expected, spec.name


def test_every_function_runs_with_the_regional_managed_layers_then_the_sluice_layer(
    stack: SluiceStack, resources: Resources
) -> None:
    managed = sorted(
        json.dumps({"Fn::Sub": layer.arn_template}) for layer in MANAGED_LAYERS.values()
    )
    assert all("${AWS::Region}" in layer.arn_template for layer in MANAGED_LAYERS.values())
    for spec in ZIP_FUNCTIONS:
        *first, last = resources[function_id(stack, spec.name)]["Properties"]["Layers"]
        assert sorted(json.dumps(layer) for layer in first) == managed
        assert last == {"Ref": logical_id(stack, stack.layers.sluice)}


def _imported_roots(source: Path) -> set[str]:
    """The top-level packages a Python file imports, anywhere in it."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_sluice_layer_ships_the_library_but_not_the_local_system_or_the_cli(
    stack: SluiceStack, resources: Resources
) -> None:
    # The layer's code is staged in the cloud assembly as asset.<hash>, the hash its S3 key names.
    key: str = resources[logical_id(stack, stack.layers.sluice)]["Properties"]["Content"]["S3Key"]
    app = Stage.of(stack)
    assert app is not None
    library = Path(app.outdir) / f"asset.{key.removesuffix('.zip')}" / "python" / "sluice"
    shipped = {path.relative_to(library).parts[0] for path in library.rglob("*")}
    assert {"api", "auth", "csv", "datasets", "inference", "ingest", "store", "tasks"} <= shipped
    assert {"catalog", "aws.py", "config.py", "errors.py"} <= shipped
    assert not shipped & {"local", "cli", "client"}
    # moto (and werkzeug, which serves it) are in no Lambda: nothing shipped may import them.
    importers = {
        str(path.relative_to(library)): roots & {"moto", "werkzeug"}
        for path in library.rglob("*.py")
        if (roots := _imported_roots(path)) & {"moto", "werkzeug"}
    }
    assert importers == {}


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


def test_on_model_upload_may_start_only_the_import_state_machine(
    stack: SluiceStack, resources: Resources
) -> None:
    role = function_role_id(resources, function_id(stack, "on_model_upload"))
    import_id = logical_id(stack, stack.workflows.by_name["import_model"])
    assert [(a, t) for a, t in role_actions(resources, role) if a.startswith("states:")] == [
        ("states:StartExecution", {"Ref": import_id})
    ]


def _method(stack: SluiceStack, resources: Resources, http_method: str, path: str) -> Any:
    if path == "/":  # the API's root resource is the RestApi's attribute, not a resource
        resource_id: Any = {"Fn::GetAtt": [logical_id(stack, stack.api.rest_api), "RootResourceId"]}
    else:
        resource = stack.api.rest_api.root.resource_for_path(path)
        resource_id = {"Ref": logical_id(stack, resource)}
    found = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::ApiGateway::Method"
        and r["Properties"]["HttpMethod"] == http_method
        and r["Properties"]["ResourceId"] == resource_id
    ]
    assert len(found) == 1, (http_method, path)
    return found[0]


def test_proxy_route_requires_the_cognito_user_pool_authorizer(
    stack: SluiceStack, resources: Resources, template: Template
) -> None:
    method = _method(stack, resources, "ANY", "/{proxy+}")
    authorizer_id = logical_id(stack, stack.api.authorizer)
    assert method["AuthorizationType"] == "COGNITO_USER_POOLS"
    assert method["AuthorizerId"] == {"Ref": authorizer_id}
    assert resources[authorizer_id]["Properties"]["ProviderARNs"] == [
        {"Fn::GetAtt": [logical_id(stack, stack.auth.user_pool), "Arn"]}
    ]


def test_auth_and_docs_routes_are_public(stack: SluiceStack, resources: Resources) -> None:
    assert ("POST", "/auth/token") in PUBLIC_ROUTES
    for http_method, path in PUBLIC_ROUTES:
        method = _method(stack, resources, http_method, path)
        assert method["AuthorizationType"] == "NONE", path
        assert "AuthorizerId" not in method, path


def test_public_routes_are_the_ones_the_local_gateway_leaves_open() -> None:
    # The local gateway writes "any method under /docs/" as a bare prefix; in API Gateway
    # that is the greedy /docs/{proxy+} resource (GET, as only Swagger UI's files live there).
    # GET /health is the local gateway's own answer, not a route of the api function.
    local = {
        route if isinstance(route, tuple) else ("GET", f"{route}{{proxy+}}")
        for route in DEFAULT_PUBLIC_ROUTES
        if route != ("GET", HEALTH_PATH)
    }
    assert set(PUBLIC_ROUTES) == local


def test_stage_logs_each_request_and_the_errors_but_never_a_body(
    stack: SluiceStack, resources: Resources
) -> None:
    stage = resources[logical_id(stack, stack.api.rest_api.deployment_stage)]["Properties"]
    access = stage["AccessLogSetting"]
    assert {"Ref": logical_id(stack, stack.api.access_logs)} in access["DestinationArn"][
        "Fn::Join"
    ][1]
    fields = json.loads(access["Format"])
    assert fields["requestId"] == "$context.requestId"
    assert fields["sub"] == "$context.authorizer.claims.sub"
    assert not [v for v in fields.values() if "requestOverride" in v or "header" in v.lower()]
    assert stage["MethodSettings"] == [
        {
            "DataTraceEnabled": False,
            "HttpMethod": "*",
            "LoggingLevel": "ERROR",
            "ResourcePath": "/*",
        }
    ]


def test_every_route_has_the_request_validator(stack: SluiceStack, resources: Resources) -> None:
    validators = [
        key for key, r in resources.items() if r["Type"] == "AWS::ApiGateway::RequestValidator"
    ]
    assert len(validators) == 1
    props = resources[validators[0]]["Properties"]
    assert (props["ValidateRequestBody"], props["ValidateRequestParameters"]) == (True, True)
    for http_method, path in (*PUBLIC_ROUTES, ("ANY", "/{proxy+}")):
        method = _method(stack, resources, http_method, path)
        assert method["RequestValidatorId"] == {"Ref": validators[0]}, path


def test_gateway_errors_answer_in_the_project_error_shape(template: Template) -> None:
    responses = template.find_resources("AWS::ApiGateway::GatewayResponse")
    by_type = {r["Properties"]["ResponseType"]: r["Properties"] for r in responses.values()}
    assert by_type["UNAUTHORIZED"]["StatusCode"] == "401"
    assert by_type["ACCESS_DENIED"]["StatusCode"] == "403"
    assert {"DEFAULT_4XX", "DEFAULT_5XX"} <= set(by_type)
    for response_type, _, code in GATEWAY_ERRORS:
        body = by_type[response_type.response_type]["ResponseTemplates"]["application/json"]
        rendered = body.replace("$context.error.messageString", '"Unauthorized"').replace(
            "$context.requestId", "req-1"
        )
        assert json.loads(rendered) == {
            "error": {
                "code": code,
                "message": "Unauthorized",
                "details": {"request_id": "req-1"},
            }
        }


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


def test_user_pool_is_admin_only_with_an_eight_character_minimum(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
            "Policies": {"PasswordPolicy": Match.object_like({"MinimumLength": 8})},
            "Schema": Match.array_with([{"Name": "email", "Required": False, "Mutable": True}]),
        },
    )


def test_user_pool_client_is_public_with_password_and_refresh_flows_and_catalogue_lifetimes(
    template: Template,
) -> None:
    spec = CATALOG.user_pool
    template.has_resource_properties(
        "AWS::Cognito::UserPoolClient",
        {
            "ClientName": spec.client_name,
            "GenerateSecret": False,
            "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            "AccessTokenValidity": spec.access_token_minutes,
            "IdTokenValidity": spec.access_token_minutes,
            "RefreshTokenValidity": spec.refresh_token_days * 24 * 60,
            "TokenValidityUnits": {
                "AccessToken": "minutes",
                "IdToken": "minutes",
                "RefreshToken": "minutes",
            },
        },
    )


def test_outputs_name_the_entry_points(template: Template) -> None:
    assert set(template.to_json()["Outputs"]) == {
        "ApiUrl",
        "UserPoolId",
        "UserPoolClientId",
        "RecordsTable",
        "UploadsBucket",
        "DataBucket",
        "IngestDatasetStateMachineArn",
        "ExportDatasetStateMachineArn",
        "RunTaskStateMachineArn",
        "RunOperationStateMachineArn",
        "ImportModelStateMachineArn",
        "TrainModelStateMachineArn",
        "PredictDatasetStateMachineArn",
        "DatasetsGlueDatabase",
    }


def test_synthesis_reports_no_warnings_or_errors(stack: SluiceStack) -> None:
    annotations = Annotations.from_stack(stack)
    assert annotations.find_warning("*", Match.any_value()) == []
    assert annotations.find_error("*", Match.any_value()) == []


def test_a_placeholder_without_a_catalogue_substitution_fails_synthesis(
    tmp_path: Path,
) -> None:
    machine = CATALOG.state_machines[0]
    functions = {k: v for k, v in machine.functions.items() if k != "ScanChunkFunctionArn"}
    broken = machine.model_copy(update={"functions": functions})
    catalog = CATALOG.model_copy(update={"state_machines": (broken,)})
    app, _ = build_app(context=cdk_json_context(), outdir=str(tmp_path))
    with pytest.raises(CatalogWiringError, match="ScanChunkFunctionArn"):
        SluiceStack(app, "Broken", catalog=catalog)


@pytest.fixture(scope="module")
def cli_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The template the pinned CDK CLI synthesises, as ``cdk deploy`` would."""
    if not CDK_CLI.exists():
        pytest.skip("the CDK CLI is not installed: run `npm ci` at the repository root")
    outdir = tmp_path_factory.mktemp("cli.out")
    venv_bin = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": os.pathsep.join([venv_bin, os.environ.get("PATH", "")]),
        # Offline and quiet: no version check, telemetry or notices over the network.
        "CDK_DISABLE_VERSION_CHECK": "1",
        "CDK_DISABLE_CLI_TELEMETRY": "1",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    }
    run_command([str(CDK_CLI), "synth", "--quiet", "--no-notices", "-o", str(outdir)], env)
    yield outdir / f"{STACK_NAME}.template.json"


def test_cdk_cli_synthesises_a_template_that_passes_cfn_lint(cli_template: Path) -> None:
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or "cfn-lint"
    result = subprocess.run(
        [cfn_lint, "--ignore-checks", *CFN_LINT_IGNORED, "--", str(cli_template)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cdk_cli_synthesises_the_same_resources_as_the_in_process_app(
    cli_template: Path, template: Template
) -> None:
    # The deployment's id hashes the whole API and CDKMetadata exists only under the CLI;
    # everything else differing would mean the tests see other feature flags than cdk.json.
    def kinds(resources: Resources) -> dict[str, str]:
        return {
            key: r["Type"]
            for key, r in resources.items()
            if r["Type"] not in ("AWS::ApiGateway::Deployment", "AWS::CDK::Metadata")
        }

    cli = json.loads(cli_template.read_text(encoding="utf-8"))
    assert kinds(cli["Resources"]) == kinds(template.to_json()["Resources"])
