"""Pure: a trace read from the public API -> OTLP protobuf spans that rebuild it on another Langfuse.

Ids, timestamps, types, inputs/outputs, usage, cost, model, prompt links, levels and trace attributes are
kept; the attributes are the ones the SDK writes (`langfuse_nb.sdk.encode`), so the target maps them as it
maps any SDK span. Ids that are not OTel-shaped (32/16 hex digits, e.g. from the legacy ingestion API)
become stable hashes of themselves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from langfuse_nb.sdk.encode import encode_observation, encode_trace
from langfuse_nb.wire.attributes import SDK_VERSION
from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A

SCOPE = "langfuse-sdk"  # the target treats the copies like SDK spans
_HEX = re.compile(r"^[0-9a-f]+$")
# keys the server itself adds to observation metadata when it maps OTel spans: not user metadata
_SERVER_METADATA = ("resourceAttributes", "scope")


def otel_id(value: str, hex_digits: int) -> bytes:
    """``value`` as an OTel id of ``hex_digits`` hex digits: itself when it already is one, else a hash."""
    lowered = value.lower()
    if len(lowered) == hex_digits and _HEX.match(lowered) and set(lowered) != {"0"}:
        return bytes.fromhex(lowered)
    return hashlib.sha256(value.encode()).digest()[: hex_digits // 2]


def trace_request(traces: Iterable[Mapping[str, Any]]) -> ExportTraceServiceRequest:
    """One OTLP export request holding every observation of ``traces`` (full trace JSON from the API)."""
    spans = [span for trace in traces for span in trace_spans(trace)]
    scope = ScopeSpans(scope=InstrumentationScope(name=SCOPE, version=SDK_VERSION), spans=spans)
    resource = Resource(attributes=_key_values({"service.name": "langfuse_nb-push"}))
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(resource=resource, scope_spans=[scope])])


def trace_spans(trace: Mapping[str, Any]) -> list[Span]:
    """Spans of one trace; trace-level fields ride on its first root observation."""
    observations = sorted(trace.get("observations") or [], key=lambda o: o.get("startTime") or "")
    if not observations:
        return []
    ids = {o["id"] for o in observations}
    root = next((o for o in observations if o.get("parentObservationId") not in ids), observations[0])
    return [_span(trace, obs, obs is root, ids) for obs in observations]


def _span(trace: Mapping[str, Any], obs: Mapping[str, Any], is_root: bool, ids: set[str]) -> Span:
    attributes = _observation_attributes(obs)
    if is_root:
        attributes.update(_trace_attributes(trace))
    parent = obs.get("parentObservationId")
    start = _nanos(obs.get("startTime")) or _nanos(trace.get("timestamp"))
    level = obs.get("level")
    return Span(
        trace_id=otel_id(trace["id"], 32),
        span_id=otel_id(obs["id"], 16),
        parent_span_id=otel_id(parent, 16) if parent in ids else b"",
        name=obs.get("name") or "",
        kind=Span.SPAN_KIND_INTERNAL,
        start_time_unix_nano=start,
        end_time_unix_nano=_nanos(obs.get("endTime")) or start,
        attributes=_key_values(attributes),
        status=Status(code=Status.STATUS_CODE_ERROR, message=obs.get("statusMessage") or "")
        if level == "ERROR"
        else Status(),
    )


def _observation_attributes(obs: Mapping[str, Any]) -> dict[str, Any]:
    kind = str(obs.get("type") or "SPAN").lower()
    fields = {
        "input": obs.get("input"),
        "output": obs.get("output"),
        "metadata": _user_metadata(obs.get("metadata")),
        "version": obs.get("version"),
        "level": obs.get("level"),
        "status_message": obs.get("statusMessage"),
        "model": obs.get("model"),
        "model_parameters": obs.get("modelParameters"),
        "usage_details": obs.get("usageDetails") or None,
        "cost_details": obs.get("costDetails") or None,
        "completion_start_time": obs.get("completionStartTime"),
    }
    # usage, cost and model travel whenever they were recorded, whatever the observation type
    out = encode_observation(fields, generation_like=True)
    out[A.OBSERVATION_TYPE] = kind
    if obs.get("environment"):
        out[A.ENVIRONMENT] = obs["environment"]
    if obs.get("promptName"):
        out[A.OBSERVATION_PROMPT_NAME] = obs["promptName"]
        if isinstance(obs.get("promptVersion"), int):
            out[A.OBSERVATION_PROMPT_VERSION] = obs["promptVersion"]
    return out


def _trace_attributes(trace: Mapping[str, Any]) -> dict[str, Any]:
    fields = {
        "name": trace.get("name"),
        "user_id": trace.get("userId"),
        "session_id": trace.get("sessionId"),
        "input": trace.get("input"),
        "output": trace.get("output"),
        "tags": trace.get("tags") or None,
        "public": trace.get("public") or None,
        "metadata": _user_metadata(trace.get("metadata")),
    }
    out = encode_trace(fields)
    if trace.get("release"):
        out[A.RELEASE] = trace["release"]
    if trace.get("version"):
        out[A.VERSION] = trace["version"]
    if trace.get("environment"):
        out[A.ENVIRONMENT] = trace["environment"]
    return out


def _user_metadata(metadata: Any) -> Any:
    if isinstance(metadata, dict):
        kept = {k: v for k, v in metadata.items() if k not in _SERVER_METADATA}
        return kept or None
    return metadata


def _nanos(value: Any) -> int:
    if not value:
        return 0
    if isinstance(value, dt.datetime):
        moment = value
    else:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    delta = moment - epoch
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def _key_values(attributes: Mapping[str, Any]) -> list[KeyValue]:
    return [
        KeyValue(key=key, value=_any_value(value)) for key, value in attributes.items() if value is not None
    ]


def _any_value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, list | tuple):
        return AnyValue(array_value=ArrayValue(values=[_any_value(v) for v in value]))
    return AnyValue(string_value=str(value))


__all__ = ["otel_id", "trace_request", "trace_spans"]
