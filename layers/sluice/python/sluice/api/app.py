"""The api Lambda's resolver: routers, the error shape, OpenAPI and Swagger UI."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, SecurityScheme
from aws_lambda_powertools.utilities.typing import LambdaContext

from sluice.api import (
    auth,
    console,
    dataset_content,
    dataset_data,
    dataset_profile,
    dataset_schema,
    datasets,
    network_imports,
    networks,
    operations,
    sessions,
    tasks,
    training,
)
from sluice.api.errors import describe_validation_errors, error_response
from sluice.api.request_checks import MethodNotAllowed, RequestChecks, allowed_methods
from sluice.api.responses import json_response
from sluice.errors import SluiceError

logger = Logger(service="sluice")

TITLE = "sluice"
VERSION = "0.1.0"
SECURITY: dict[str, SecurityScheme] = {"bearerAuth": HTTPBearer(bearerFormat="JWT")}


def cors_config(origins: str) -> CORSConfig:
    """The origins whose pages may read the API's answers (``SLUICE_CORS_ORIGINS``, from
    the catalogue: comma-separated, ``*`` by default). ``*`` is safe here because no
    credentials ride on cookies: a page sends the id token in ``Authorization`` itself, so
    ``Access-Control-Allow-Credentials`` is never sent. An answer to a request with no
    ``Origin``, or one not listed, carries no CORS header (Powertools)."""
    listed = [origin.strip() for origin in origins.split(",") if origin.strip()] or ["*"]
    return CORSConfig(
        allow_origin=listed[0],
        extra_origins=listed[1:],
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["Allow", "Retry-After"],
        max_age=600,
        allow_credentials=False,
    )


app = APIGatewayRestResolver(
    enable_validation=True, cors=cors_config(os.environ.get("SLUICE_CORS_ORIGINS", "*"))
)
# Powertools runs this first on every route (all are validated); ours checks the method and
# reads the body strictly before validating. Powertools is pinned exactly.
app._request_validation_middleware = RequestChecks()
app.include_router(auth.router)
app.include_router(datasets.router)
app.include_router(dataset_schema.router)
app.include_router(dataset_data.router)
app.include_router(dataset_content.router)
app.include_router(dataset_profile.router)
app.include_router(tasks.router)
app.include_router(networks.router)
app.include_router(sessions.router)
app.include_router(operations.router)
app.include_router(training.router)
app.include_router(network_imports.router)
app.include_router(console.router)
app.enable_swagger(
    path="/docs",
    title=TITLE,
    version=VERSION,
    description="CSV datasets on S3: typed, sliced, analysed. Sign in at POST /auth/token.",
    security_schemes=SECURITY,
    security=[{"bearerAuth": []}],
)


@app.get("/openapi.json", include_in_schema=False)
def openapi_json() -> Response[str]:
    """The OpenAPI 3 document, generated from the routes."""
    body = app.get_openapi_json_schema(
        title=TITLE, version=VERSION, security_schemes=SECURITY, security=[{"bearerAuth": []}]
    )
    return json_response(200, body)


@app.exception_handler(SluiceError)
def _sluice_error(exc: SluiceError) -> Response[Any]:
    return error_response(exc.status, exc.code, exc.message, exc.details)


@app.exception_handler(RequestValidationError)
def _invalid_request(exc: RequestValidationError) -> Response[Any]:
    message, details = describe_validation_errors(list(exc.errors()))
    return error_response(422, "validation_error", message, details)


@app.exception_handler(MethodNotAllowed)
def _method_not_allowed(exc: MethodNotAllowed) -> Response[Any]:
    return error_response(exc.status, exc.code, exc.message, exc.details, {"Allow": exc.allow})


@app.not_found
def _no_route(exc: NotFoundError) -> Response[Any]:
    method, path = app.current_event.http_method, app.current_event.path
    allowed = allowed_methods(app, path)
    if allowed:  # the path exists, not with this method
        return _method_not_allowed(MethodNotAllowed(method, path, allowed))
    return error_response(404, "not_found", f"no route {method} {path}")


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response[Any]:
    logger.exception("unhandled error")
    return error_response(500, "internal_error", "an internal error occurred; it has been logged")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The api Lambda's entry point."""
    return app.resolve(event, context)
