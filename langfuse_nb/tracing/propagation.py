"""Attributes propagated through the OTel context onto every span started inside it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import context as context_api
from opentelemetry.baggage import _BAGGAGE_KEY

from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A

# One context key holding {span attribute key: encoded value}; set by sdk.context.
PROPAGATED_KEY = context_api.create_key("langfuse_nb.propagated_attributes")
BAGGAGE_PREFIX = "langfuse_"
BAGGAGE_METADATA_PREFIX = "langfuse_metadata_"

# logical key -> span attribute, shared by the context form and the baggage form
LOGICAL_TO_ATTRIBUTE: Mapping[str, str] = {
    "user_id": A.TRACE_USER_ID,
    "session_id": A.TRACE_SESSION_ID,
    "version": A.VERSION,
    "tags": A.TRACE_TAGS,
    "trace_name": A.TRACE_NAME,
}
EXPERIMENT_ENVIRONMENT = "sdk-experiment"


def get_propagated(ctx: Any) -> Mapping[str, Any] | None:
    """The propagated attributes of ``ctx`` (context values win over baggage), or None."""
    if ctx is None:
        return None
    values = ctx.get(PROPAGATED_KEY)
    entries = ctx.get(_BAGGAGE_KEY)  # the mapping baggage.get_all() would copy; a dict lookup here
    if entries:
        from_baggage = _from_baggage(entries)
        if from_baggage:
            return {**from_baggage, **values} if values else from_baggage
    return values


def _from_baggage(entries: Mapping[str, object]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in entries.items():
        if not name.startswith(BAGGAGE_PREFIX):
            continue
        if not isinstance(value, (str, list)):
            value = str(value)
        if name.startswith(BAGGAGE_METADATA_PREFIX):
            # F10: metadata keys never alias trace attributes
            out[f"{A.TRACE_METADATA}.{name[len(BAGGAGE_METADATA_PREFIX) :]}"] = value
            continue
        attribute = LOGICAL_TO_ATTRIBUTE.get(name[len(BAGGAGE_PREFIX) :])
        if attribute is not None:
            if attribute == A.TRACE_TAGS and isinstance(value, str):
                value = [t for t in value.split(",") if t]
            out[attribute] = value
    return out


def with_propagated(attributes: Mapping[str, Any], ctx: Any = None) -> Any:
    """A context whose propagated attributes are ``attributes`` (already merged by the caller)."""
    return context_api.set_value(PROPAGATED_KEY, dict(attributes), ctx)
