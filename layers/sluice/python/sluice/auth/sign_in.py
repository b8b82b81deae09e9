"""Sign-in for scripts: Cognito's USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH flows."""

from __future__ import annotations

from typing import Any

from sluice import aws
from sluice.auth.models import Tokens
from sluice.errors import Unauthorized


def sign_in(client_id: str, username: str, password: str) -> Tokens:
    """Exchange a username and password for JWTs; Unauthorized if they are wrong."""
    auth = _initiate(client_id, "USER_PASSWORD_AUTH", {"USERNAME": username, "PASSWORD": password})
    return Tokens(
        access_token=auth["AccessToken"],
        id_token=auth["IdToken"],
        refresh_token=auth["RefreshToken"],
        expires_in=auth["ExpiresIn"],
    )


def refresh(client_id: str, refresh_token: str) -> Tokens:
    """Fresh access and id tokens for a refresh token (Cognito keeps the refresh token
    unless it rotates it)."""
    auth = _initiate(client_id, "REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": refresh_token})
    return Tokens(
        access_token=auth["AccessToken"],
        id_token=auth["IdToken"],
        refresh_token=auth.get("RefreshToken") or refresh_token,
        expires_in=auth["ExpiresIn"],
    )


def _initiate(client_id: str, flow: str, parameters: dict[str, str]) -> dict[str, Any]:
    cognito = aws.client("cognito-idp")
    try:
        result: dict[str, Any] = cognito.initiate_auth(
            AuthFlow=flow, ClientId=client_id, AuthParameters=parameters
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
