"""Who is calling: the Cognito claims the authorizer put on the event."""

from __future__ import annotations

from typing import cast

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from sluice.errors import Unauthorized


def current_owner(app: BaseRouter) -> str:
    """The caller's user id (the token's ``sub``); 401 if the request carries none."""
    event = cast(APIGatewayProxyEvent, app.current_event)
    claims = event.request_context.authorizer.claims or {}
    owner = claims.get("sub")
    if not owner:
        raise Unauthorized("this route needs a bearer token")
    return str(owner)
