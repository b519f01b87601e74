"""Plain observation records that the renderers draw, built from OTel spans or from the REST API."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
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


# json.loads(text) without its per-call Python layers (~1 us of the ~2 us a small attribute value costs):
# the scanner json.loads runs, then its rule that only whitespace may follow the value. A text starting
# with "{" or "[" has no leading whitespace or BOM for json.loads to skip or refuse.
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_JSON_WHITESPACE = " \t\n\r"


def _maybe_json(value: Any) -> Any:
    """Strings holding JSON objects/arrays are decoded; plain strings stay strings (SDK sends them raw)."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            parsed, end = _SCAN(value, 0)
        except (StopIteration, ValueError):  # what json.loads raises as "Expecting value" or a syntax error
            return value
        if end == len(value) or not value[end:].strip(_JSON_WHITESPACE):
            return parsed
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


_MICROSECOND = timedelta(microseconds=1)


def _epoch_ns(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    # integer arithmetic: a float timestamp cannot hold every microsecond of today's dates
    return (value - _EPOCH) // _MICROSECOND * 1000


Reader = Callable[[str], Any]

# every name from_api reads: none may be a class attribute of a model whose fields it reads directly
_API_NAMES = (
    "id", "trace_id", "traceId", "name", "type", "parent_observation_id", "parentObservationId", "start_time",
    "startTime", "end_time", "endTime", "level", "status_message", "statusMessage", "model", "usage_details",
    "usageDetails", "cost_details", "costDetails", "calculated_total_cost", "calculatedTotalCost",
    "total_cost", "totalCost", "input", "output", "metadata", "observations",
)  # fmt: skip


_PLAIN_MODELS: dict[type, bool] = {}


def _plain_model(cls: type) -> bool:
    """Whether ``getattr(obj, name)`` on a ``cls`` instance is "its fields, then its pydantic extras" for
    every name read here (no class attribute shadows one), so a dict of both reads the same values."""
    plain = _PLAIN_MODELS.get(cls)
    if plain is None:
        lookup = getattr(cls, "__getattr__", None)  # pydantic's own: extras, then AttributeError
        plain = (
            hasattr(cls, "__pydantic_fields__")
            and getattr(lookup, "__qualname__", "") == "BaseModel.__getattr__"
            and not any(hasattr(cls, name) for name in _API_NAMES)
        )
        _PLAIN_MODELS[cls] = plain
    return plain


def _reader(obj: Any) -> Reader:
    """``name -> value or None`` of a plain dict, a mapping, or a model (attribute ``name``)."""
    if isinstance(obj, Mapping):
        return obj.get
    if _plain_model(type(obj)):
        extra = getattr(obj, "__pydantic_extra__", None) or {}
        return {**extra, **vars(obj)}.get  # one dict read per field instead of a failing getattr
    return lambda name: getattr(obj, name, None)


def _first(get: Reader, *names: str) -> Any:
    """The first of ``names`` that is not None (snake_case first, then the camelCase alias)."""
    for name in names:
        value = get(name)
        if value is not None:
            return value
    return None


def _get(obj: Any, *names: str) -> Any:
    """Read a field from a pydantic model or a plain dict, trying snake_case then camelCase names."""
    return _first(_reader(obj), *names)


def from_api(obs: Any, trace_name: str | None = None) -> ObservationRecord:
    """Convert an observation of ``api.trace.get(...)`` (model or dict)."""
    return _api_record(_reader(obs), trace_name)


def _api_record(get: Reader, trace_name: str | None) -> ObservationRecord:
    metadata = get("metadata")
    usage = _first(get, "usage_details", "usageDetails")
    level = get("level")
    if type(level) is not str:  # an enum member: its value (a str has no ``value``)
        level = getattr(level, "value", level)
    return ObservationRecord(
        id=str(get("id")),
        trace_id=str(_first(get, "trace_id", "traceId")),
        name=str(get("name") or ""),
        type=str(get("type") or "SPAN").lower(),
        parent_id=_first(get, "parent_observation_id", "parentObservationId"),
        start_ns=_epoch_ns(_first(get, "start_time", "startTime")) or 0,
        end_ns=_epoch_ns(_first(get, "end_time", "endTime")),
        level=str(level or "DEFAULT"),
        status_message=_first(get, "status_message", "statusMessage"),
        model=get("model"),
        usage=dict(usage) if isinstance(usage, Mapping) and usage else None,
        cost=_api_cost(get),
        input=get("input"),
        output=get("output"),
        metadata=dict(metadata) if isinstance(metadata, Mapping) else {},
        trace_name=trace_name,
    )


def _api_cost(get: Reader) -> dict[str, Any] | None:
    """Cost details of an API observation; the calculated total stands in when there are no details."""
    details = _first(get, "cost_details", "costDetails")
    if isinstance(details, Mapping) and details:
        return dict(details)
    total = _first(get, "calculated_total_cost", "calculatedTotalCost", "total_cost", "totalCost")
    return _total_cost(total)


def _total_cost(total: Any) -> dict[str, Any] | None:
    return {"total": total} if isinstance(total, int | float) and total > 0 else None


def trace_records_from_api(trace: Any) -> list[ObservationRecord]:
    get = _reader(trace)
    name = get("name")
    return [from_api(obs, name) for obs in (get("observations") or [])]


# ---- the notebook's reader of a trace's raw JSON answer ----------------------------------------------------
#
# `trace_records_from_json` builds the records straight from the decoded JSON of ``GET
# /api/public/traces/{id}``, skipping the models (validating 1,000 observations costs more than fetching
# them). It gives exactly what `trace_records_from_api` gives for the validated model, because it only
# accepts values the model would take unchanged (or converts them as the model does: an integer cost is a
# float there); anything else (a number where a string belongs, another date form, a snake_case key the
# model would read) makes it answer None, and the caller validates the model as before.

_LEVELS = frozenset({"DEBUG", "DEFAULT", "WARNING", "ERROR"})
# the snake_case names of the fields read here: the model reads them too (populate by name)
_SNAKE_KEYS = frozenset(
    {"trace_id", "start_time", "end_time", "status_message", "parent_observation_id", "usage_details",
     "cost_details", "calculated_total_cost"}
)  # fmt: skip
# the date forms that the model's parser and datetime.fromisoformat read alike
_ISO = re.compile(
    r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?"
    r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?"
)
_EXACT_FLOAT_INT = 2**53  # integers a float holds exactly: float(n) is what the model makes of them


class _NotPlain(Exception):
    """A value the model would convert or refuse: the caller validates the model instead."""


def trace_records_from_json(trace: Any) -> list[ObservationRecord] | None:
    """The records of a trace's decoded JSON answer, or None when only the model can say (see above)."""
    if type(trace) is not dict:
        return None
    name, observations = trace.get("name"), trace.get("observations")
    if (name is not None and type(name) is not str) or type(observations) is not list:
        return None
    try:
        return [_json_record(obs, name) for obs in observations]
    except (_NotPlain, ValueError):  # ValueError: a date that matched the form but is not a date
        return None


_OPTIONAL_TEXT = ("traceId", "name", "parentObservationId", "statusMessage", "model")
_TEXT_OR_NONE = frozenset({str, type(None)})
_INT_ONLY = frozenset({int})


def _json_record(obs: Any, trace_name: str | None) -> ObservationRecord:
    if type(obs) is not dict or not obs.keys().isdisjoint(_SNAKE_KEYS):
        raise _NotPlain
    get = obs.get
    oid, kind, level, metadata, end = get("id"), get("type"), get("level"), get("metadata"), get("endTime")
    texts = tuple(map(get, _OPTIONAL_TEXT))
    if not (type(oid) is str and type(kind) is str and type(level) is str and level in _LEVELS):
        raise _NotPlain
    if not _TEXT_OR_NONE.issuperset(map(type, texts)):
        raise _NotPlain
    trace_id, name, parent_id, status, model = texts
    usage = _usage(get("usageDetails"))
    return ObservationRecord(
        id=oid,
        trace_id=str(trace_id),
        name=name or "",
        type=(kind or "SPAN").lower(),
        parent_id=parent_id,
        start_ns=_json_ns(get("startTime")) or 0,
        end_ns=None if end is None else _json_ns(end),
        level=level,
        status_message=status,
        model=model,
        usage=dict(usage) if usage else None,
        cost=_json_cost(get),
        input=get("input"),
        output=get("output"),
        metadata=dict(metadata) if isinstance(metadata, Mapping) else {},
        trace_name=trace_name,
    )


def _json_ns(value: Any) -> int:
    if type(value) is not str or not _ISO.fullmatch(value):
        raise _NotPlain
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return (parsed - _EPOCH) // _MICROSECOND * 1000


def _usage(value: Any) -> dict[str, int] | None:
    if value is None:
        return None
    if type(value) is not dict or not _INT_ONLY.issuperset(map(type, value.values())):
        raise _NotPlain  # the model turns 2.0 into 2 and refuses 2.5
    return value


def _as_float(value: Any) -> float:
    """What a ``float`` field of the model holds for this JSON value."""
    if type(value) is float:
        return value  # type: ignore[no-any-return]
    if type(value) is int and -_EXACT_FLOAT_INT <= value <= _EXACT_FLOAT_INT:
        return float(value)
    raise _NotPlain  # null inside cost details included: the model refuses it


def _json_cost(get: Reader) -> dict[str, Any] | None:
    details, total = get("costDetails"), get("calculatedTotalCost")
    if total is not None:
        total = _as_float(total)  # checked even when the details are drawn: the model checks it
    if details is not None:
        if type(details) is not dict:
            raise _NotPlain
        if details:
            return {key: _as_float(value) for key, value in details.items()}
    if total is None:  # names that are no model field: the model keeps them as they came
        total = _first(get, "total_cost", "totalCost")
    return _total_cost(total)


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
