"""Keep secrets out of what the server prints and logs (a detached server's output goes to a file)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

REDACTED = "***"
_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "langfuse_nb.server")


def mask(secret: str) -> str:
    """A recognisable but useless form of a key: its prefix and last four characters."""
    if len(secret) < 16:
        return REDACTED
    return f"{secret[:6]}...{secret[-4:]}"


class RedactingFilter(logging.Filter):
    """Replaces every occurrence of the secrets in a record's message and traceback text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # longest first, so a secret containing another is replaced whole
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        record.msg, record.args = self.redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            # formatted once here: handlers reuse exc_text instead of formatting the traceback again
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text


def redact_logs(secrets: Iterable[str]) -> RedactingFilter:
    """Install the filter on the handlers of the root, uvicorn and server loggers (a whole process)."""
    redactor = RedactingFilter(secrets)
    for name in _LOGGERS:
        for handler in logging.getLogger(name).handlers:
            handler.addFilter(redactor)
    return redactor


def redact_logger(name: str, secrets: Iterable[str]) -> None:
    """Filter one logger's own records (a server inside a notebook kernel must not touch its handlers)."""
    logger = logging.getLogger(name)
    for existing in logger.filters:
        if isinstance(existing, RedactingFilter):  # several servers in one process: one filter, all keys
            existing.secrets = RedactingFilter([*existing.secrets, *secrets]).secrets
            return
    logger.addFilter(RedactingFilter(secrets))
