"""Pure OTLP decoding: request bytes (protobuf or JSON, maybe compressed) -> neutral span records."""

from __future__ import annotations

import base64
import gzip
import zlib
from dataclasses import dataclass
from typing import Any

import orjson
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from langfuse_nb.server.errors import BadRequest, PayloadTooLarge


@dataclass(slots=True)
class SpanRecord:
    """One span, independent of the wire format it arrived in."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    status_code: int
    status_message: str
    events: list[dict[str, Any]]


@dataclass(slots=True)
class ScopeSpans:
    """Spans sharing one resource and one instrumentation scope."""

    resource: dict[str, Any]
    scope: dict[str, Any]
    spans: list[SpanRecord]


def decompress(body: bytes, encoding: str | None, limit: int) -> bytes:
    """Undo ``Content-Encoding`` gzip/deflate, refusing output larger than ``limit`` (zip bombs)."""
    encoding = (encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise BadRequest(f"unsupported Content-Encoding {encoding!r}; use gzip, deflate or none")
    wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS
    try:
        decoder = zlib.decompressobj(wbits)
        out = decoder.decompress(body, limit + 1)
        if encoding == "deflate" and not out and body:  # some clients send raw deflate without zlib header
            decoder = zlib.decompressobj(-zlib.MAX_WBITS)
            out = decoder.decompress(body, limit + 1)
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise BadRequest(f"request body is not valid {encoding} data: {exc}") from None
    if len(out) > limit:
        raise PayloadTooLarge(f"decompressed body exceeds the limit of {limit} bytes")
    if not decoder.eof:
        # a cut-off stream inflates to a prefix that may still parse; storing a partial batch is data loss
        raise BadRequest(f"request body is truncated {encoding} data")
    return out


def decode_request(body: bytes, content_type: str | None) -> list[ScopeSpans]:
    kind = (content_type or "").lower()
    if "application/x-protobuf" in kind or "application/protobuf" in kind:
        return decode_protobuf(body)
    if "application/json" in kind:
        return decode_json(body)
    raise BadRequest("Invalid content type: expected application/x-protobuf or application/json")


# ---- protobuf ---------------------------------------------------------------------------------------------


def decode_protobuf(body: bytes) -> list[ScopeSpans]:
    try:
        request = ExportTraceServiceRequest.FromString(body)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise BadRequest(f"body is not a valid OTLP ExportTraceServiceRequest protobuf: {exc}") from None
    groups: list[ScopeSpans] = []
    for resource_spans in request.resource_spans:
        resource = _pb_attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            scope_info = {
                "name": scope.name,
                "version": scope.version,
                "attributes": _pb_attributes(scope.attributes),
            }
            spans = [_pb_span(span) for span in scope_spans.spans]
            groups.append(ScopeSpans(resource, scope_info, spans))
    return groups


def _pb_span(span: Any) -> SpanRecord:
    trace_id = span.trace_id.hex()
    span_id = span.span_id.hex()
    if len(trace_id) != 32 or len(span_id) != 16:
        raise BadRequest(f"span {span.name!r} has an invalid trace id or span id length")
    parent = span.parent_span_id.hex() or None
    events = (
        [
            {"name": e.name, "timeUnixNano": e.time_unix_nano, "attributes": _pb_attributes(e.attributes)}
            for e in span.events
        ]
        if span.events
        else []
    )
    return SpanRecord(
        trace_id,
        span_id,
        parent,
        span.name,
        span.start_time_unix_nano,
        span.end_time_unix_nano,
        _pb_attributes(span.attributes),
        span.status.code,
        span.status.message,
        events,
    )


def _pb_attributes(pairs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in pairs:
        value = kv.value
        # non-empty strings are the common case (SDK attributes): a non-empty string_value can only mean
        # the string member is set, so the generic oneof dispatch is needed for everything else only
        text = value.string_value
        out[kv.key] = text if text else _pb_value(value)
    return out


def _pb_value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return value.int_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "double_value":
        return value.double_value
    if kind == "array_value":
        return [_pb_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return orjson.dumps({kv.key: _pb_value(kv.value) for kv in value.kvlist_value.values}).decode()
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return None


# ---- OTLP/JSON --------------------------------------------------------------------------------------------


def decode_json(body: bytes) -> list[ScopeSpans]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body is not valid OTLP JSON: {exc}") from None
    if not isinstance(document, dict):
        raise BadRequest("OTLP JSON body must be an object with 'resourceSpans'")
    try:
        return [group for rs in _list(document.get("resourceSpans")) for group in _json_resource_spans(rs)]
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        raise BadRequest(f"malformed OTLP JSON: {exc}") from None


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {type(value).__name__}")
    return value


def _json_resource_spans(resource_spans: dict[str, Any]) -> list[ScopeSpans]:
    resource = _json_attributes((resource_spans.get("resource") or {}).get("attributes"))
    groups = []
    for scope_spans in _list(resource_spans.get("scopeSpans")):
        scope = scope_spans.get("scope") or {}
        scope_info = {
            "name": scope.get("name", ""),
            "version": scope.get("version", ""),
            "attributes": _json_attributes(scope.get("attributes")),
        }
        groups.append(
            ScopeSpans(resource, scope_info, [_json_span(s) for s in _list(scope_spans.get("spans"))])
        )
    return groups


def _json_span(span: dict[str, Any]) -> SpanRecord:
    trace_id = _json_id(span.get("traceId"), 32, "traceId")
    span_id = _json_id(span.get("spanId"), 16, "spanId")
    parent = _json_id(span.get("parentSpanId"), 16, "parentSpanId") if span.get("parentSpanId") else None
    status = span.get("status") or {}
    events = [
        {
            "name": e.get("name", ""),
            "timeUnixNano": int(e.get("timeUnixNano") or 0),
            "attributes": _json_attributes(e.get("attributes")),
        }
        for e in _list(span.get("events"))
    ]
    code = status.get("code", 0)
    code = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}.get(code, code)
    return SpanRecord(
        trace_id,
        span_id,
        parent,
        str(span.get("name", "")),
        int(span.get("startTimeUnixNano") or 0),
        int(span.get("endTimeUnixNano") or 0),
        _json_attributes(span.get("attributes")),
        int(code),
        str(status.get("message") or ""),
        events,
    )


def _json_id(value: Any, length: int, field: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a hex string")
    text = value.lower()
    if len(text) != length:
        # some encoders follow the generic protobuf JSON mapping (base64 bytes) instead of OTLP's hex
        try:
            text = base64.b64decode(value, validate=True).hex()
        except ValueError:
            text = ""
    if len(text) != length or any(c not in "0123456789abcdef" for c in text):
        raise ValueError(f"{field} {value!r} is not a {length}-character hex id")
    return text


def _json_attributes(pairs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in _list(pairs):
        key = kv["key"]
        if not isinstance(key, str):  # everything downstream treats attribute keys as text
            raise ValueError(f"attribute key {key!r} must be a string")
        out[key] = _json_value(kv.get("value") or {})
    return out


def _json_value(value: dict[str, Any]) -> Any:
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "arrayValue" in value:
        return [_json_value(v) for v in _list((value["arrayValue"] or {}).get("values"))]
    if "kvlistValue" in value:
        pairs = _list((value["kvlistValue"] or {}).get("values"))
        return orjson.dumps({kv["key"]: _json_value(kv.get("value") or {}) for kv in pairs}).decode()
    if "bytesValue" in value:
        return value["bytesValue"]
    return None
