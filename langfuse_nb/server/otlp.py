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
from langfuse_nb.server.read_gate import yield_to_reads
from langfuse_nb.server.values import MAX_DEPTH, TRUNCATED, dumps, note_truncated

# span times must render as ISO years 1970-9999 (what every client can parse)
_MAX_NS = 253_402_300_800 * 1_000_000_000
_INT64 = (-(2**63), 2**63 - 1)


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


def decode_request(
    body: bytes, content_type: str | None, rejected: list[str] | None = None
) -> list[ScopeSpans]:
    """Decode by content type; with ``rejected`` given, a bad span is left out and described there."""
    kind = (content_type or "").lower()
    if "application/x-protobuf" in kind or "application/protobuf" in kind:
        return decode_protobuf(body, rejected)
    if "application/json" in kind:
        return decode_json(body, rejected)
    raise BadRequest("Invalid content type: expected application/x-protobuf or application/json")


def _spans(items: Any, decode: Any, rejected: list[str] | None) -> list[SpanRecord]:
    """Decode each span alone: without a ``rejected`` list the first bad one fails the request."""
    out: list[SpanRecord] = []
    for item in items:
        yield_to_reads()  # a worker lets a read in flight go first (read_gate; ~0.1 us when none is)
        try:
            out.append(decode(item))  # each decoder checks the times itself (the hot one inline)
        except (BadRequest, TypeError, ValueError, OverflowError, AttributeError, KeyError) as exc:
            if rejected is None:
                raise
            message = exc.message if isinstance(exc, BadRequest) else f"malformed span: {exc}"
            rejected.append(message[:300])
    return out


def _check_times(span: SpanRecord) -> SpanRecord:
    if not (0 <= span.start_ns < _MAX_NS and 0 <= span.end_ns < _MAX_NS):
        raise BadRequest(f"span {span.name[:100]!r} has a start or end time outside years 1970-9999")
    return span


# ---- protobuf ---------------------------------------------------------------------------------------------


def decode_protobuf(body: bytes, rejected: list[str] | None = None) -> list[ScopeSpans]:
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
            spans = _spans(scope_spans.spans, _pb_span, rejected)
            groups.append(ScopeSpans(resource, scope_info, spans))
    return groups


def _pb_span(span: Any) -> SpanRecord:
    trace_id = span.trace_id.hex()
    span_id = span.span_id.hex()
    if len(trace_id) != 32 or len(span_id) != 16:
        raise BadRequest(f"span {span.name!r} has an invalid trace id or span id length")
    name = span.name
    start_ns, end_ns = span.start_time_unix_nano, span.end_time_unix_nano
    if not (0 <= start_ns < _MAX_NS and 0 <= end_ns < _MAX_NS):  # _check_times, without the call
        raise BadRequest(f"span {name[:100]!r} has a start or end time outside years 1970-9999")
    status = span.status  # each read of a message field builds a wrapper object: read it once
    events = span.events
    return SpanRecord(
        trace_id,
        span_id,
        span.parent_span_id.hex() or None,
        name,
        start_ns,
        end_ns,
        _pb_attributes(span.attributes),
        status.code,
        status.message,
        _pb_events(events) if events else [],
    )


def _pb_events(events: Any) -> list[dict[str, Any]]:
    return [
        {"name": e.name, "timeUnixNano": e.time_unix_nano, "attributes": _pb_attributes(e.attributes)}
        for e in events
    ]


def _pb_attributes(pairs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in pairs:
        value = kv.value
        # non-empty strings are the common case (SDK attributes): a non-empty string_value can only mean
        # the string member is set, so the generic oneof dispatch is needed for everything else only
        text = value.string_value
        out[kv.key] = text if text else _top_level(_pb_value(value, 0))
    return out


def _top_level(value: Any) -> Any:
    # an attribute that is a key-value list is stored as its JSON text; nested ones stay objects inside it
    # (encoding every level as text would double its escaping per level: 30 levels are gigabytes)
    return dumps(value) if isinstance(value, dict) else value


def _too_deep(depth: int) -> bool:
    if depth < MAX_DEPTH // 2:  # an OTLP level is 2-4 JSON levels; stored values must stay below MAX_DEPTH
        return False
    note_truncated()
    return True


def _pb_value(value: Any, depth: int) -> Any:
    if _too_deep(depth):
        return TRUNCATED
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
        items = value.array_value.values
        if depth + 1 < MAX_DEPTH // 2:  # no truncation ahead: a non-empty string item needs no dispatch
            return [item.string_value or _pb_value(item, depth + 1) for item in items]
        return [_pb_value(item, depth + 1) for item in items]
    if kind == "kvlist_value":
        return {kv.key: _pb_value(kv.value, depth + 1) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return None


# ---- OTLP/JSON --------------------------------------------------------------------------------------------


def decode_json(body: bytes, rejected: list[str] | None = None) -> list[ScopeSpans]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body is not valid OTLP JSON: {exc}") from None
    if not isinstance(document, dict):
        raise BadRequest("OTLP JSON body must be an object with 'resourceSpans'")
    try:
        resource_spans = _list(document.get("resourceSpans"))
        return [group for rs in resource_spans for group in _json_resource_spans(rs, rejected)]
    except (TypeError, ValueError, OverflowError, AttributeError, KeyError) as exc:
        raise BadRequest(f"malformed OTLP JSON: {str(exc)[:300]}") from None


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {type(value).__name__}")
    return value


def _json_resource_spans(resource_spans: dict[str, Any], rejected: list[str] | None) -> list[ScopeSpans]:
    resource = _json_attributes((resource_spans.get("resource") or {}).get("attributes"))
    groups = []
    for scope_spans in _list(resource_spans.get("scopeSpans")):
        scope = scope_spans.get("scope") or {}
        scope_info = {
            "name": scope.get("name", ""),
            "version": scope.get("version", ""),
            "attributes": _json_attributes(scope.get("attributes")),
        }
        spans = _spans(_list(scope_spans.get("spans")), _json_span, rejected)
        groups.append(ScopeSpans(resource, scope_info, spans))
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
    record = SpanRecord(
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
    return _check_times(record)


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
        out[key] = _top_level(_json_value(kv.get("value") or {}, 0))
    return out


def _json_value(value: dict[str, Any], depth: int) -> Any:
    if _too_deep(depth):
        return TRUNCATED
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return _int64(value["intValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "arrayValue" in value:
        return [_json_value(v, depth + 1) for v in _list((value["arrayValue"] or {}).get("values"))]
    if "kvlistValue" in value:
        pairs = _list((value["kvlistValue"] or {}).get("values"))
        return {str(kv["key"]): _json_value(kv.get("value") or {}, depth + 1) for kv in pairs}
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def _int64(value: Any) -> int:
    if isinstance(value, float):
        number = int(value)
    else:
        text = str(value)
        if len(text) > 20:  # also keeps int() away from its 4,300-digit limit
            raise ValueError(f"intValue {text[:30]}... is not a 64-bit integer")
        number = int(text)
    if not _INT64[0] <= number <= _INT64[1]:
        raise ValueError(f"intValue {number} is outside the 64-bit range")
    return number
