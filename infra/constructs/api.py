"""The REST API in front of the api function: public auth, docs and console, Cognito for the
rest."""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from sluice.catalog import CORS_ORIGINS

from infra.constructs.nag import accept
from infra.constructs.naming import pascal

STAGE_NAME = "v1"

PUBLIC_ROUTES: tuple[tuple[str, str], ...] = (
    ("POST", "/auth/token"),
    ("POST", "/auth/refresh"),
    ("GET", "/docs"),
    ("GET", "/docs/{proxy+}"),
    ("GET", "/openapi.json"),
    # The web console's page and static files (sluice.api.console): no data in them.
    ("GET", "/"),
    ("GET", "/console/{proxy+}"),
)
"""(method, path) pairs anyone may call; every other request needs a Cognito token.

The catalogue has no field for these yet; the local gateway must exempt the same routes.
"""

ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "sub": "$context.authorizer.claims.sub",
    "method": "$context.httpMethod",
    "resource": "$context.resourcePath",
    "path": "$context.path",
    "status": "$context.status",
    "error": "$context.error.responseType",
    "responseBytes": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency",
}
"""One JSON line per request: who (address, Cognito sub), what, and the answer; no
headers, query strings or bodies, so no token or password reaches the log."""

CORS_HEADERS = {"Access-Control-Allow-Origin": "'*'"}
"""Also on API Gateway's own error answers, or browsers hide them from the page."""

# (response type, status to answer with or None to keep API Gateway's, error code).
GATEWAY_ERRORS: tuple[tuple[apigw.ResponseType, str | None, str], ...] = (
    (apigw.ResponseType.UNAUTHORIZED, "401", "unauthorized"),
    (apigw.ResponseType.ACCESS_DENIED, "403", "forbidden"),
    # With ANY /{proxy+} behind the authorizer, this only fires for a method that a
    # public route does not have (GET /auth/token): for a client that is a missing route.
    (apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, "404", "not_found"),
    (apigw.ResponseType.REQUEST_TOO_LARGE, "413", "payload_too_large"),
    (apigw.ResponseType.THROTTLED, "429", "too_many_requests"),
    (apigw.ResponseType.DEFAULT_4_XX, None, "bad_request"),
    (apigw.ResponseType.DEFAULT_5_XX, None, "internal_error"),
)


def error_body(code: str) -> str:
    """A VTL template for the project's one error shape, as API Gateway fills it in.

    ``$context.error.messageString`` is the message already quoted as a JSON string.
    """
    placeholder = "@MESSAGE@"
    body = {
        "error": {
            "code": code,
            "message": placeholder,
            "details": {"request_id": "$context.requestId"},
        }
    }
    return json.dumps(body).replace(f'"{placeholder}"', "$context.error.messageString")


class Api(Construct):
    """A regional REST API proxying every route to one Lambda function."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: lambda_.IFunction,
        user_pool: cognito.IUserPool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            description="sluice HTTP API",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # The account-wide CloudWatch role is shared by every API in the account and
            # region; one stack must not own (and on deletion remove) it. API Gateway writes
            # the logs below only once the account has one (README, "Deploying to AWS").
            cloud_watch_role=False,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                tracing_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
                # Execution logs of failed requests only, and never their bodies: those of
                # POST /auth/token hold passwords.
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
            ),
            # The same origins as the api Lambda's own answers (the catalogue's setting).
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=[origin.strip() for origin in CORS_ORIGINS.split(",")],
                allow_methods=apigw.Cors.ALL_METHODS,
                allow_headers=["Authorization", "Content-Type"],
            ),
        )
        # RestApi adds an "Endpoint" output of its own; the stack names its outputs itself
        # (ApiUrl), and one URL under two names is one too many for scripts to read.
        self.rest_api.node.try_remove_child("Endpoint")
        # Without authorization scopes on the methods, a Cognito authorizer accepts ID
        # tokens (and refuses access tokens): clients send the id_token of /auth/token.
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self, "Authorizer", cognito_user_pools=[user_pool]
        )
        # The proxy integration hands the request to the api function, whose models check
        # bodies and parameters; the validator checks what a method declares at the gateway.
        validator = self.rest_api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        # One invoke permission for the whole API instead of one per method keeps the
        # function's resource policy small as routes are added.
        integration = apigw.LambdaIntegration(handler, proxy=True, scope_permission_to_method=False)
        for method, path in PUBLIC_ROUTES:
            public = self._resource(path).add_method(
                method,
                integration,
                authorization_type=apigw.AuthorizationType.NONE,
                request_validator=validator,
            )
            reason = (
                f"{method} {path} is public on purpose (PUBLIC_ROUTES): it hands out tokens "
                "for a user's password or refresh token, or serves the API's description "
                "or the web console's static files (which hold no data; the console's "
                "API calls carry the user's token)"
            )
            accept(public, "APIG4", reason)
            accept(public, "COG4", reason)
        self.rest_api.root.add_proxy(any_method=False).add_method(
            "ANY",
            integration,
            authorizer=self.authorizer,
            authorization_type=apigw.AuthorizationType.COGNITO,
            request_validator=validator,
        )
        accept(
            self.rest_api.deployment_stage,
            "APIG3",
            "no WAF web ACL: it is billed per ACL, rule and request; every route but sign-in, "
            "the docs and the console's static files needs a Cognito token, and Cognito locks "
            "a user out after repeated failed sign-ins itself; an operator can associate a "
            "web ACL with the stage",
        )
        for response_type, status, code in GATEWAY_ERRORS:
            self.rest_api.add_gateway_response(
                f"{pascal(code)}Response",
                type=response_type,
                status_code=status,
                response_headers=CORS_HEADERS,
                templates={"application/json": error_body(code)},
            )

    @property
    def url(self) -> str:
        """The stage's base URL, ending in ``/``."""
        return self.rest_api.url

    def _resource(self, path: str) -> apigw.IResource:
        resource: apigw.IResource = self.rest_api.root
        if path == "/":
            return resource
        for part in path.strip("/").split("/"):
            resource = resource.get_resource(part) or resource.add_resource(part)
        return resource
