"""propagate_attributes: trace-level attributes copied onto every span started inside a block."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any, cast

from opentelemetry import baggage
from opentelemetry import context as context_api
from opentelemetry import trace as trace_api

from langfuse_nb.tracing.propagation import PROPAGATED_KEY, with_propagated
from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A

logger = logging.getLogger("langfuse_nb")
MAX_VALUE_LENGTH = 200

# span attribute -> baggage entry name (as_baggage=True); metadata uses a prefix
_BAGGAGE_NAMES = {
    A.TRACE_USER_ID: "langfuse_user_id",
    A.TRACE_SESSION_ID: "langfuse_session_id",
    A.VERSION: "langfuse_version",
    A.TRACE_TAGS: "langfuse_tags",
    A.TRACE_NAME: "langfuse_trace_name",
}


def propagate_attributes(
    *,
    user_id: str | None = None,
    session_id: str | None = None,
    metadata: dict[str, str] | None = None,
    version: str | None = None,
    tags: list[str] | None = None,
    trace_name: str | None = None,
    as_baggage: bool = False,
) -> AbstractContextManager[None]:
    """Set trace attributes on the current span and on every span started inside the block.

    Values must be US-ASCII strings of at most 200 characters; others are dropped with a warning.

    Example:
        with propagate_attributes(user_id="u-1", session_id="s-1", tags=["beta"]):
            answer(question)
    """
    attrs: dict[str, str | list[str]] = {}
    for attr, value, label in (
        (A.TRACE_USER_ID, user_id, "user_id"),
        (A.TRACE_SESSION_ID, session_id, "session_id"),
        (A.VERSION, version, "version"),
        (A.TRACE_NAME, trace_name, "trace_name"),
    ):
        if value is not None and _valid(value, label):
            attrs[attr] = value
    if tags is not None:
        kept = [t for t in tags if _valid(t, "tags")]
        if kept:
            attrs[A.TRACE_TAGS] = kept
    for key, value in (metadata or {}).items():
        if value is not None and _valid(value, f"metadata.{key}"):
            attrs[f"{A.TRACE_METADATA}.{key}"] = value
    return propagate_span_attributes(attrs, as_baggage=as_baggage)


def _valid(value: Any, label: str) -> bool:
    """F9: only US-ASCII strings of at most 200 characters propagate (warning texts as the reference's)."""
    if not isinstance(value, str):
        logger.warning(f"Propagated attribute '{label}' value is not a string. Dropping value.")
        return False
    if len(value) > MAX_VALUE_LENGTH:
        logger.warning(
            f"Propagated attribute '{label}' value is over {MAX_VALUE_LENGTH} characters "
            f"({len(value)} chars). Dropping value."
        )
        return False
    if not value.isascii():
        logger.warning(f"Propagated attribute '{label}' value is not US-ASCII. Dropping value.")
        return False
    return True


@contextmanager
def propagate_span_attributes(
    attributes: Mapping[str, str | list[str]], *, as_baggage: bool = False
) -> Iterator[None]:
    """Copy already-encoded span attributes onto the current span and every span started inside."""
    token = None
    try:
        token = _enter(attributes, as_baggage)
    except Exception:  # telemetry must not break the block
        logger.warning("langfuse_nb: attribute propagation failed", exc_info=True)
    try:
        yield
    finally:
        if token is not None:
            try:
                context_api.detach(token)
            except Exception:
                logger.debug("langfuse_nb: detach failed", exc_info=True)


def _enter(attributes: Mapping[str, str | list[str]], as_baggage: bool) -> Any:
    ctx = context_api.get_current()
    outer = cast("Mapping[str, Any] | None", ctx.get(PROPAGATED_KEY))
    merged = _merge(outer or {}, attributes)
    span = trace_api.get_current_span(ctx)
    if span.is_recording():
        span.set_attributes({k: merged[k] for k in attributes})
    ctx = with_propagated(merged, ctx)
    if as_baggage:
        for key, value in merged.items():
            name = _baggage_name(key)
            if name is not None:
                ctx = baggage.set_baggage(name, ",".join(value) if isinstance(value, list) else value, ctx)
    return context_api.attach(ctx)


def _merge(outer: Mapping[str, Any], inner: Mapping[str, Any]) -> dict[str, Any]:
    """Inner values win; tags are concatenated without duplicates, outer first."""
    merged = dict(outer)
    for key, value in inner.items():
        if key == A.TRACE_TAGS:
            value = list(dict.fromkeys([*merged.get(key, ()), *value]))
        merged[key] = value
    return merged


def _baggage_name(attribute: str) -> str | None:
    prefix = f"{A.TRACE_METADATA}."
    if attribute.startswith(prefix):
        return f"langfuse_metadata_{attribute[len(prefix) :]}"
    return _BAGGAGE_NAMES.get(attribute)
