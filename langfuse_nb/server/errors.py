"""Server-side errors and the single table that maps them to JSON responses."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error the API reports to the client as ``{"message", "error"}`` JSON."""

    status_code = 500
    error = "InternalServerError"

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "error": self.error, **self.extra}


class BadRequest(ApiError):
    status_code = 400
    error = "InvalidRequestError"


class Unauthorized(ApiError):
    status_code = 401
    error = "UnauthorizedError"


class NotFound(ApiError):
    status_code = 404
    error = "LangfuseNotFoundError"


class MethodNotAllowed(ApiError):
    status_code = 405
    error = "MethodNotAllowedError"


class PayloadTooLarge(ApiError):
    status_code = 413
    error = "PayloadTooLargeError"


class UnsupportedMediaType(ApiError):
    status_code = 415
    error = "UnsupportedMediaTypeError"
