"""Server test kit: OTLP request builders, OpenAPI and reference-model response checks."""

from __future__ import annotations

import functools
import os
import time
import typing
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

# the Langfuse public OpenAPI spec is vendored next to this file; LANGFUSE_NB_OPENAPI points at another copy
SPEC_CANDIDATES = (
    os.environ.get("LANGFUSE_NB_OPENAPI", ""),
    str(Path(__file__).with_name("langfuse-openapi.yml")),
)


def spec_path() -> Path | None:
    return next((Path(p) for p in SPEC_CANDIDATES if p and Path(p).is_file()), None)


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects -> JSON Schema (``nullable`` becomes a null alternative)."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {
        k: _to_json_schema(v)
        for k, v in node.items()
        if k not in ("nullable", "discriminator", "example", "format")
    }
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@functools.lru_cache(maxsize=1)
def _components() -> dict[str, Any]:
    path = spec_path()
    if path is None:
        import pytest

        pytest.skip("the Langfuse OpenAPI spec is not available")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open() as handle:
        spec = yaml.load(handle, Loader=loader)
    return _to_json_schema(spec["components"])


def validate_openapi(document: Any, schema_name: str) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``document`` fits ``components.schemas[name]``."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": _components()}
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(document))
    if error is not None:  # a short message: the full schema would flood the test report
        where = "/".join(str(p) for p in error.absolute_path)
        raise AssertionError(f"{schema_name} mismatch at /{where}: {error.message[:300]}")


def validate_reference(document: Any, model_name: str) -> Any:
    """Parse with the reference SDK's pydantic model (what a v3.11.2 client would do)."""
    import langfuse.api as reference

    model = getattr(reference, model_name)
    members = [m for m in typing.get_args(model) if hasattr(m, "parse_obj")] or [model]
    failures = []
    for member in members:  # a discriminated union: one member must accept the document
        try:
            return member.parse_obj(document)
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            failures.append(exc)
    raise AssertionError(f"reference model {model_name} rejected the document: {failures}")


def check(document: Any, schema_name: str, model_name: str | None = None) -> Any:
    validate_openapi(document, schema_name)
    return validate_reference(document, model_name or schema_name) if model_name != "" else None


SDK_SCOPE = {"name": "langfuse-sdk", "version": "3.11.2", "attributes": {"public_key": "pk-lf-local"}}
RESOURCE = {"service.name": "unknown_service", "telemetry.sdk.language": "python"}


def trace_id() -> str:
    return os.urandom(16).hex()


def span_id() -> str:
    return os.urandom(8).hex()


def any_value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, list | tuple):
        out = AnyValue()
        out.array_value.values.extend(any_value(v) for v in value)
        return out
    return AnyValue(string_value=str(value))


def key_values(attributes: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=k, value=any_value(v)) for k, v in attributes.items()]


def span(
    name: str,
    *,
    trace: str,
    sid: str | None = None,
    parent: str | None = None,
    attributes: dict[str, Any] | None = None,
    start_ns: int | None = None,
    duration_ns: int = 1_000_000,
    status_code: int = 0,
    status_message: str = "",
) -> dict[str, Any]:
    start = start_ns if start_ns is not None else time.time_ns()
    return {
        "name": name,
        "trace_id": trace,
        "span_id": sid or span_id(),
        "parent": parent,
        "attributes": attributes or {},
        "start": start,
        "end": start + duration_ns,
        "status_code": status_code,
        "status_message": status_message,
    }


def protobuf_request(
    spans: list[dict[str, Any]],
    *,
    resource: dict[str, Any] | None = None,
    scope: dict[str, Any] | None = None,
) -> bytes:
    scope = scope or SDK_SCOPE
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.extend(key_values(resource if resource is not None else RESOURCE))
    ss = rs.scope_spans.add()
    ss.scope.name = scope["name"]
    ss.scope.version = scope.get("version", "")
    ss.scope.attributes.extend(key_values(scope.get("attributes", {})))
    for item in spans:
        out = ss.spans.add()
        out.trace_id = bytes.fromhex(item["trace_id"])
        out.span_id = bytes.fromhex(item["span_id"])
        if item["parent"]:
            out.parent_span_id = bytes.fromhex(item["parent"])
        out.name = item["name"]
        out.start_time_unix_nano = item["start"]
        out.end_time_unix_nano = item["end"]
        out.attributes.extend(key_values(item["attributes"]))
        out.status.code = item["status_code"]
        out.status.message = item["status_message"]
    return request.SerializeToString()


def _json_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, list):
        return {"arrayValue": {"values": [_json_value(v) for v in value]}}
    return {"stringValue": str(value)}


def _json_attributes(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": _json_value(v)} for k, v in attributes.items()]


def json_request(
    spans: list[dict[str, Any]],
    *,
    resource: dict[str, Any] | None = None,
    scope: dict[str, Any] | None = None,
) -> dict[str, Any]:
    scope = scope or SDK_SCOPE
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": _json_attributes(resource if resource is not None else RESOURCE)},
                "scopeSpans": [
                    {
                        "scope": {
                            "name": scope["name"],
                            "version": scope.get("version", ""),
                            "attributes": _json_attributes(scope.get("attributes", {})),
                        },
                        "spans": [
                            {
                                "traceId": s["trace_id"],
                                "spanId": s["span_id"],
                                "parentSpanId": s["parent"] or "",
                                "name": s["name"],
                                "startTimeUnixNano": str(s["start"]),
                                "endTimeUnixNano": str(s["end"]),
                                "attributes": _json_attributes(s["attributes"]),
                                "status": {"code": s["status_code"], "message": s["status_message"]},
                            }
                            for s in spans
                        ],
                    }
                ],
            }
        ]
    }
