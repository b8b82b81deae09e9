"""The api Lambda: every HTTP route, behind API Gateway."""

from sluice.api.app import handler

__all__ = ["handler"]
