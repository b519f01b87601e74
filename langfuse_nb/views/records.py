"""Plain observation records that the renderers draw, built from OTel spans or from the REST API."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_OBS_META = A.OBSERVATION_METADATA + "."
_TRACE_META = A.TRACE_METADATA + "."


@dataclass
class ObservationRecord:
    """What the trace view needs of one observation; times are epoch nanoseconds."""

    id: str
    trace_id: str
    name: str
    type: str = "span"
    parent_id: str | None = None
    start_ns: int = 0
    end_ns: int | None = None
    level: str = "DEFAULT"
    status_message: str | None = None
    model: str | None = None
    usage: dict[str, Any] | None = None
    cost: dict[str, Any] | None = None  # cost details in USD: what the client sent or the server computed
    input: Any = None
    output: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)
    trace_name: str | None = None
    as_root: bool = False

    @property
    def duration_ns(self) -> int | None:
        return None if self.end_ns is None else max(0, self.end_ns - self.start_ns)


def _maybe_json(value: Any) -> Any:
    """Strings holding JSON objects/arrays are decoded; plain strings stay strings (SDK sends them raw)."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _prefixed(attrs: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {key[len(prefix) :]: _maybe_json(val) for key, val in attrs.items() if key.startswith(prefix)}


def _level(attrs: Mapping[str, Any], status_is_error: bool) -> str:
    level = attrs.get(A.OBSERVATION_LEVEL)
    if level:
        return str(level)
    return "ERROR" if status_is_error else "DEFAULT"


def from_span(span: Any) -> ObservationRecord:
    """Convert an ended OpenTelemetry ``ReadableSpan``."""
    attrs = dict(span.attributes or {})
    status = getattr(span, "status", None)
    status_is_error = status is not None and getattr(status.status_code, "name", "") == "ERROR"
    parent = span.parent
    usage = _maybe_json(attrs.get(A.OBSERVATION_USAGE_DETAILS))
    cost = _maybe_json(attrs.get(A.OBSERVATION_COST_DETAILS))
    return ObservationRecord(
        id=format(span.context.span_id, "016x"),
        trace_id=format(span.context.trace_id, "032x"),
        name=span.name,
        type=str(attrs.get(A.OBSERVATION_TYPE, "span")),
        parent_id=format(parent.span_id, "016x") if parent is not None else None,
        start_ns=span.start_time or 0,
        end_ns=span.end_time,
        level=_level(attrs, status_is_error),
        status_message=attrs.get(A.OBSERVATION_STATUS_MESSAGE)
        or (status.description if status is not None and status_is_error else None),
        model=attrs.get(A.OBSERVATION_MODEL),
        usage=usage if isinstance(usage, dict) else None,
        cost=cost if isinstance(cost, dict) and cost else None,
        input=_maybe_json(attrs.get(A.OBSERVATION_INPUT)),
        output=_maybe_json(attrs.get(A.OBSERVATION_OUTPUT)),
        metadata=_prefixed(attrs, _OBS_META),
        trace_name=attrs.get(A.TRACE_NAME),
        as_root=bool(attrs.get(A.AS_ROOT)),
    )


def _epoch_ns(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    # integer arithmetic: a float timestamp cannot hold every microsecond of today's dates
    return (value - _EPOCH) // timedelta(microseconds=1) * 1000


def _get(obj: Any, *names: str) -> Any:
    """Read a field from a pydantic model or a plain dict, trying snake_case then camelCase names."""
    for name in names:
        value = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
        if value is not None:
            return value
    return None


def from_api(obs: Any, trace_name: str | None = None) -> ObservationRecord:
    """Convert an observation of ``api.trace.get(...)`` (model or dict)."""
    metadata = _get(obs, "metadata")
    usage = _get(obs, "usage_details", "usageDetails")
    return ObservationRecord(
        id=str(_get(obs, "id")),
        trace_id=str(_get(obs, "trace_id", "traceId")),
        name=str(_get(obs, "name") or ""),
        type=str(_get(obs, "type") or "SPAN").lower(),
        parent_id=_get(obs, "parent_observation_id", "parentObservationId"),
        start_ns=_epoch_ns(_get(obs, "start_time", "startTime")) or 0,
        end_ns=_epoch_ns(_get(obs, "end_time", "endTime")),
        level=str(getattr(_get(obs, "level"), "value", _get(obs, "level")) or "DEFAULT"),
        status_message=_get(obs, "status_message", "statusMessage"),
        model=_get(obs, "model"),
        usage=dict(usage) if isinstance(usage, Mapping) and usage else None,
        cost=_api_cost(obs),
        input=_get(obs, "input"),
        output=_get(obs, "output"),
        metadata=dict(metadata) if isinstance(metadata, Mapping) else {},
        trace_name=trace_name,
    )


def _api_cost(obs: Any) -> dict[str, Any] | None:
    """Cost details of an API observation; the calculated total stands in when there are no details."""
    details = _get(obs, "cost_details", "costDetails")
    if isinstance(details, Mapping) and details:
        return dict(details)
    total = _get(obs, "calculated_total_cost", "calculatedTotalCost", "total_cost", "totalCost")
    return {"total": total} if isinstance(total, int | float) and total > 0 else None


def trace_records_from_api(trace: Any) -> list[ObservationRecord]:
    name = _get(trace, "name")
    return [from_api(obs, name) for obs in (_get(trace, "observations") or [])]


def sort_tree(records: Iterable[ObservationRecord]) -> list[tuple[int, ObservationRecord]]:
    """Depth-first order with depths; observations whose parent is unknown are roots."""
    items = sorted(records, key=lambda r: (r.start_ns, r.id))
    ids = {r.id for r in items}
    children: dict[str | None, list[ObservationRecord]] = {}
    for rec in items:
        parent = rec.parent_id if rec.parent_id in ids and not rec.as_root else None
        children.setdefault(parent, []).append(rec)
    ordered: list[tuple[int, ObservationRecord]] = []
    stack = [(0, rec) for rec in reversed(children.get(None, []))]
    while stack:
        depth, rec = stack.pop()
        ordered.append((depth, rec))
        stack.extend((depth + 1, child) for child in reversed(children.get(rec.id, [])))
    return ordered
