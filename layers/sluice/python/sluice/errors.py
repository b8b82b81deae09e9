"""Errors the library raises on purpose; the API maps each to one status and code."""

from __future__ import annotations

from typing import Any


class SluiceError(Exception):
    """Base of the errors a client caused or may act on."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequest(SluiceError):
    status = 400
    code = "bad_request"


class Unauthorized(SluiceError):
    status = 401
    code = "unauthorized"


class NotFound(SluiceError):
    status = 404
    code = "not_found"


class Conflict(SluiceError):
    status = 409
    code = "conflict"


class PayloadTooLarge(SluiceError):
    status = 413
    code = "payload_too_large"


class TooManyRequests(SluiceError):
    status = 429
    code = "too_many_requests"


class Unprocessable(SluiceError):
    status = 422
    code = "unprocessable"


class UnsupportedMediaType(SluiceError):
    status = 415
    code = "unsupported_media_type"
