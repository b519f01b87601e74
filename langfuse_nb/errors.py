"""Errors raised by langfuse_nb.

One root (`LangfuseNbError`). REST failures are `ApiError`s carrying the HTTP status and the decoded body;
the status-specific subclasses also inherit the fitting builtin so ``except LookupError`` keeps working.
"""

from __future__ import annotations

from typing import Any


class LangfuseNbError(Exception):
    """Root of every error raised by langfuse_nb."""


class ApiError(LangfuseNbError):
    """A non-2xx answer from the Langfuse API (``body`` is the JSON body, else the raw text)."""

    status_code: int | None
    body: Any

    def __init__(self, *, status_code: int | None = None, body: Any = None) -> None:
        self.status_code = status_code
        self.body = body
        super().__init__(status_code, body)

    def __str__(self) -> str:
        return f"status_code: {self.status_code}, body: {self.body}"


class _StatusError(ApiError):
    """An `ApiError` whose status is fixed by its class; built from the body alone, as upstream's."""

    STATUS: int = 0

    def __init__(self, body: Any = None) -> None:
        super().__init__(status_code=self.STATUS, body=body)


class Error(_StatusError, ValueError):
    """400 Bad Request."""

    STATUS = 400


class UnauthorizedError(_StatusError, PermissionError):
    """401: missing or wrong API keys."""

    STATUS = 401


class AccessDeniedError(_StatusError, PermissionError):
    """403: the keys may not access this resource."""

    STATUS = 403


class NotFoundError(_StatusError, LookupError):
    """404: the resource does not exist."""

    STATUS = 404


class MethodNotAllowedError(_StatusError):
    """405: the server does not support this method on this path."""

    STATUS = 405


class ServiceUnavailableError(_StatusError):
    """503: the server (or its database) is unavailable."""

    STATUS = 503


# HTTP status -> exception class; any other non-2xx status becomes a plain ApiError.
STATUS_ERRORS: dict[int, type[_StatusError]] = {
    cls.STATUS: cls
    for cls in (
        Error,
        UnauthorizedError,
        AccessDeniedError,
        NotFoundError,
        MethodNotAllowedError,
        ServiceUnavailableError,
    )
}


def error_for_status(status_code: int, body: Any) -> ApiError:
    """Return (not raise) the exception for a failed response."""
    cls = STATUS_ERRORS.get(status_code)
    return cls(body) if cls is not None else ApiError(status_code=status_code, body=body)


__all__ = [
    "LangfuseNbError",
    "ApiError",
    "Error",
    "UnauthorizedError",
    "AccessDeniedError",
    "NotFoundError",
    "MethodNotAllowedError",
    "ServiceUnavailableError",
    "STATUS_ERRORS",
    "error_for_status",
]
