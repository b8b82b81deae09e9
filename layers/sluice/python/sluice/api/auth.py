"""POST /auth/token and /auth/refresh: Cognito sign-in for scripts."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from sluice.api.errors import JSON_BODY_RESPONSES
from sluice.auth import sign_in as cognito
from sluice.auth.models import RefreshRequest, TokenRequest, Tokens
from sluice.config import settings

router = APIGatewayRouter()


@router.post("/auth/token", summary="Sign in", responses=JSON_BODY_RESPONSES)
def sign_in(body: Annotated[TokenRequest, Body()]) -> Tokens:
    """Exchange a username and password for JWTs."""
    return cognito.sign_in(settings().user_pool_client_id, body.username, body.password)


@router.post("/auth/refresh", summary="Renew tokens", responses=JSON_BODY_RESPONSES)
def refresh(body: Annotated[RefreshRequest, Body()]) -> Tokens:
    """Exchange a refresh token for fresh access and id tokens."""
    return cognito.refresh(settings().user_pool_client_id, body.refresh_token)
