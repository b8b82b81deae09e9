"""Reading back what a state machine's Catch put at ``$.error``."""

from __future__ import annotations

import json
from typing import NamedTuple


class StepFailure(NamedTuple):
    type: str  # the failing Lambda's errorType, or Step Functions' own Error
    message: str


def step_failure(error: str, cause: str | None) -> StepFailure:
    """The failure in the failing Lambda's words: a Lambda's Cause is its JSON error
    payload (errorType, errorMessage); Step Functions' own errors have a plain Cause."""
    if not cause:
        return StepFailure(error, error)
    try:
        detail = json.loads(cause)
    except ValueError:
        return StepFailure(error, cause)
    if not isinstance(detail, dict):
        return StepFailure(error, cause)
    return StepFailure(
        str(detail.get("errorType") or error), str(detail.get("errorMessage") or error)
    )
