"""What goes wrong, as the client reports it: one exception family, messages a person reads."""

from __future__ import annotations

from typing import Any


class ClientError(Exception):
    """Anything the client cannot do; its message says what, for a person."""


class ApiError(ClientError):
    """The API answered with an error: its status and the error body's code and message
    (``{"error": {"code", "message", "details"}}``, the same shape on every route)."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{message} (HTTP {status} {code})")
        self.status = status
        self.code = code
        self.message = message
        self.details = details


class IngestFailed(ClientError):
    """A dataset's ingest ended in ``failed``; the message is the dataset's ``error``."""

    def __init__(self, dataset: dict[str, Any]) -> None:
        error = dataset.get("error")
        reason = error.get("message") if isinstance(error, dict) else error
        super().__init__(f"dataset {dataset.get('id')} failed: {reason or 'no reason given'}")
        self.dataset = dataset


class TaskFailed(ClientError):
    """A task ended failed or cancelled; the message is its error."""

    def __init__(self, task: dict[str, Any]) -> None:
        error = task.get("error")
        reason = error.get("message") if isinstance(error, dict) else error
        super().__init__(
            f"task {task.get('id')} {task.get('status')}: {reason or 'no reason given'}"
        )
        self.task = task


def api_error(status: int, body: Any, text: str) -> ApiError:
    """The :class:`ApiError` of an answer, whatever its body (the gateway's own errors,
    a proxy's HTML page)."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return ApiError(
            status,
            str(error.get("code", "error")),
            str(error.get("message", "")),
            error.get("details"),
        )
    if isinstance(body, dict) and "message" in body:  # API Gateway's own answers
        return ApiError(status, "gateway", str(body["message"]))
    return ApiError(status, "http_error", text[:200].strip() or f"HTTP {status}")
