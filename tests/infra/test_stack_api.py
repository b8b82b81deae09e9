"""API Gateway in the synthesised stack: the authorizer, the public routes, the stage's
logs, the request validator and the gateway's errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template
from sluice.local.gateway import DEFAULT_PUBLIC_ROUTES, HEALTH_PATH

from infra.constructs.api import GATEWAY_ERRORS, PUBLIC_ROUTES
from infra.stack import SluiceStack
from tests.infra.conftest import Resources
from tests.infra.stack_queries import (
    logical_id,
)

pytestmark = pytest.mark.infra


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
