"""POST /auth/token and /auth/refresh: Cognito sign-in for scripts."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, Field

from sluice import aws
from sluice.api.errors import ERROR_RESPONSES
from sluice.config import settings
from sluice.errors import Unauthorized

router = APIGatewayRouter()


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=256)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1)


class Tokens(BaseModel):
    access_token: str
    id_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"


def _initiate(flow: str, parameters: dict[str, str]) -> dict[str, Any]:
    cognito = aws.client("cognito-idp")
    try:
        result: dict[str, Any] = cognito.initiate_auth(
            AuthFlow=flow, ClientId=settings().user_pool_client_id, AuthParameters=parameters
        )
    except (
        cognito.exceptions.NotAuthorizedException,
        cognito.exceptions.UserNotFoundException,
        cognito.exceptions.UserNotConfirmedException,
        cognito.exceptions.PasswordResetRequiredException,
    ) as exc:
        message = (
            "the refresh token is invalid or expired"
            if flow == "REFRESH_TOKEN_AUTH"
            else "wrong username or password"
        )
        raise Unauthorized(message) from exc
    if "AuthenticationResult" not in result:
        raise Unauthorized(f"sign-in needs a further step ({result.get('ChallengeName')})")
    return dict(result["AuthenticationResult"])


@router.post("/auth/token", summary="Sign in", responses=ERROR_RESPONSES)
def sign_in(body: Annotated[TokenRequest, Body()]) -> Tokens:
    """Exchange a username and password for JWTs."""
    auth = _initiate("USER_PASSWORD_AUTH", {"USERNAME": body.username, "PASSWORD": body.password})
    return Tokens(
        access_token=auth["AccessToken"],
        id_token=auth["IdToken"],
        refresh_token=auth["RefreshToken"],
        expires_in=auth["ExpiresIn"],
    )


@router.post("/auth/refresh", summary="Renew tokens", responses=ERROR_RESPONSES)
def refresh(body: Annotated[RefreshRequest, Body()]) -> Tokens:
    """Exchange a refresh token for fresh access and id tokens."""
    auth = _initiate("REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": body.refresh_token})
    return Tokens(
        access_token=auth["AccessToken"],
        id_token=auth["IdToken"],
        refresh_token=auth.get("RefreshToken") or body.refresh_token,
        expires_in=auth["ExpiresIn"],
    )
