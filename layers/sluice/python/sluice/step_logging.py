"""Logging for the Lambdas that Step Functions invokes.

Each line is Powertools' JSON with the Lambda context and, as its correlation id, the
name of the execution the step belongs to, so that one ingest's or one task's lines can
be found together across its many functions. Step Functions passes no correlation id:
each handler says where in its event the execution's name is (an ingest's dataset run
is its execution's name, for one).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger(service="sluice")

Event = dict[str, Any]
Handler = Callable[[Event, LambdaContext], Any]
RunOf = Callable[[Event], str | None]


def run_at(*keys: str, prefix: str = "") -> RunOf:
    """Reads the execution's name at ``keys`` of an event (``prefix`` put before it);
    None where the event has no such value, so a malformed event still fails on its
    model, not on its logging."""

    def run_of(event: Event) -> str | None:
        value: Any = event
        for key in keys:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return f"{prefix}{value}" if isinstance(value, str) else None

    return run_of


def step_handler(run_of: RunOf) -> Callable[[Handler], Handler]:
    """Decorate a step's handler: its lines carry the Lambda context and ``run_of(event)``
    as correlation id, and an exception it raises is logged before Step Functions' Retry
    or Catch sees it."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def logged(event: Event, context: LambdaContext) -> Any:
            logger.set_correlation_id(run_of(event))
            try:
                return handler(event, context)
            except Exception:
                logger.exception("step failed")
                raise

        # clear_state: a warm sandbox's next invocation must not keep this one's keys.
        wrapped: Handler = logger.inject_lambda_context(clear_state=True)(logged)
        return wrapped

    return decorate
