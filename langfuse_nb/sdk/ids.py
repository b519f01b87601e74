"""Trace, observation and event ids in the formats Langfuse expects."""

from __future__ import annotations

import hashlib
import logging
import random

from opentelemetry import trace as trace_api

import langfuse_nb.logger  # noqa: F401  (links our logger under "langfuse"; every client imports this module)

_rng = random.SystemRandom()
logger = logging.getLogger("langfuse_nb")
# the reference's text (users filter logs on it)
NO_ACTIVE_SPAN = (
    "langfuse_nb: Context error: No active span in current context. Operations that depend on an active span "
    "will be skipped. Ensure spans are created with start_as_current_span() or that you're operating within "
    "an active span context."
)


def create_trace_id(*, seed: str | None = None) -> str:
    """32 lowercase hex chars: random, or the first 16 bytes of sha256(seed) (K5)."""
    if seed is None:
        return format(_rng.getrandbits(128) or 1, "032x")
    return hashlib.sha256(seed.encode("utf-8")).digest()[:16].hex()


def create_observation_id(*, seed: str | None = None) -> str:
    """16 lowercase hex chars: random, or the first 8 bytes of sha256(seed)."""
    if seed is None:
        return format(_rng.getrandbits(64) or 1, "016x")
    return hashlib.sha256(seed.encode("utf-8")).digest()[:8].hex()


def format_trace_id(trace_id: int) -> str:
    return format(trace_id, "032x")


def format_span_id(span_id: int) -> str:
    return format(span_id, "016x")


def is_valid_trace_id(value: object) -> bool:
    return isinstance(value, str) and len(value) == 32 and _is_lower_hex(value)


def is_valid_span_id(value: object) -> bool:
    return isinstance(value, str) and len(value) == 16 and _is_lower_hex(value)


def _is_lower_hex(value: str) -> bool:
    return all(c in "0123456789abcdef" for c in value)


def normalize_trace_id(value: object) -> str | None:
    """The id as 32 lowercase hex chars when it is one in any case (systems often print upper case)."""
    if isinstance(value, str) and len(value) == 32:
        lowered = value.lower()
        return lowered if _is_lower_hex(lowered) else None
    return None


def normalize_span_id(value: object) -> str | None:
    """The id as 16 lowercase hex chars when it is one in any case, else None."""
    if isinstance(value, str) and len(value) == 16:
        lowered = value.lower()
        return lowered if _is_lower_hex(lowered) else None
    return None


def current_span_ids(*, warn: bool = True) -> tuple[str, str] | None:
    """(trace id, observation id) of the active span, or None (with the reference's warning) when there is
    none."""
    ctx = trace_api.get_current_span().get_span_context()
    if not ctx.is_valid:
        if warn:
            logger.warning(NO_ACTIVE_SPAN)
        return None
    return format_trace_id(ctx.trace_id), format_span_id(ctx.span_id)
