"""Public typing helpers (mirrors ``langfuse.types``): literals and dict shapes to annotate code with.

Example::

    from langfuse_nb.types import SpanLevel, TraceContext

    def link(trace_id: str) -> TraceContext:
        return {"trace_id": trace_id}
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any, Protocol, TypedDict

if sys.version_info >= (3, 11):
    from typing import NotRequired
else:  # pydantic depends on typing_extensions, so it is always installed
    from typing_extensions import NotRequired

from langfuse_nb.media import ParsedMediaReference
from langfuse_nb.sdk.params import ScoreDataType, SpanLevel

__all__ = [
    "SpanLevel",
    "ScoreDataType",
    "TraceMetadata",
    "ObservationParams",
    "MaskFunction",
    "ParsedMediaReference",
    "TraceContext",
]


class TraceMetadata(TypedDict):
    """Trace-level fields (as ``update_current_trace`` takes them)."""

    name: str | None
    user_id: str | None
    session_id: str | None
    version: str | None
    release: str | None
    metadata: Any | None
    tags: list[str] | None
    public: bool | None


class ObservationParams(TraceMetadata):
    """Trace fields plus the fields of an observation (a generation's included)."""

    input: Any | None
    output: Any | None
    level: SpanLevel | None
    status_message: str | None
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    completion_start_time: dt.datetime | None
    model: str | None
    model_parameters: dict[str, Any] | None
    usage: Any | None
    usage_details: dict[str, int] | None
    cost_details: dict[str, float] | None
    prompt: Any | None


class MaskFunction(Protocol):
    """What ``Langfuse(mask=...)`` takes: called with ``data=`` (keyword), returns the value to send."""

    def __call__(self, *, data: Any, **kwargs: Any) -> Any: ...


class TraceContext(TypedDict):
    """Where a new observation attaches: an existing trace id, optionally a parent span id (16 hex chars)."""

    trace_id: str
    parent_span_id: NotRequired[str]
