"""The api Lambda: every HTTP route, behind API Gateway."""

from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventModel
from sluice.api.app import handler

# The proxy event API Gateway sends; the resolver in sluice.api.app reads it.
EVENT_MODEL = APIGatewayProxyEventModel

__all__ = ["EVENT_MODEL", "handler"]
