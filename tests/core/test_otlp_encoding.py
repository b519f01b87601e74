"""Our direct-to-bytes OTLP span encoder produces exactly what OpenTelemetry's encoder serialises."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    set_span_in_context,
)
from opentelemetry.trace.span import TraceState

from langfuse_nb.tracing.otlp import SpanEncoder, any_value, request_body, varint


def _reference(spans: list[ReadableSpan]) -> bytes:
    return bytes(encode_spans(spans).SerializeToString())


def _ours(spans: list[ReadableSpan]) -> bytes:
    encoder = SpanEncoder()
    return request_body([encoder.encode(s) for s in spans])


@pytest.fixture
def recorded() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "svc", "langfuse.environment": "dev"})
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def test_spans_of_every_shape_encode_byte_for_byte_like_opentelemetry(recorded: Any) -> None:
    provider, exporter = recorded
    tracer = provider.get_tracer("langfuse-sdk", "3.11.2", attributes={"public_key": "pk-lf-1"})
    other = provider.get_tracer("other.lib", schema_url="https://opentelemetry.io/schemas/1.21.0")
    remote = SpanContext(
        0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(1), trace_state=TraceState([("k", "v")])
    )
    attrs: dict[str, Any] = {
        "s": "text ünïcødé \U0001f600",
        "empty": "",
        "long": "x" * 300,
        "t": True,
        "f": False,
        "i": 42,
        "zero": 0,
        "neg": -7,
        "big": 2**62,
        "fl": 1.5,
        "fneg": -0.0,
        "strs": ["a", "b"],
        "ints": [1, -2, 3],
        "bools": [True, False],
        "floats": [0.5],
        "none_in": ["a", None],
        "empty_list": [],
        "langfuse.environment": "dev",  # also a resource attribute: encoded under another field tag there
    }
    with tracer.start_as_current_span("root", attributes=attrs, kind=SpanKind.SERVER) as root:
        root.add_event("evt", {"a": 1, "b": "two"})
        root.add_event("bare")
        with tracer.start_as_current_span(
            "child", links=[Link(remote, {"why": "batch"}), Link(remote)]
        ) as child:
            child.set_status(Status(StatusCode.ERROR, "it broke"))
        with other.start_as_current_span("other-lib", kind=SpanKind.CLIENT) as span:
            span.set_status(Status(StatusCode.OK))
    with tracer.start_as_current_span("remote-parent", context=set_span_in_context(NonRecordingSpan(remote))):
        pass
    with tracer.start_as_current_span(""):
        pass
    spans = list(exporter.get_finished_spans())
    assert _ours(spans) == _reference(spans)
    for span in spans:  # one by one too: every span is its own request
        assert _ours([span]) == _reference([span])


def test_spans_of_several_resources_are_grouped_like_opentelemetry() -> None:
    spans: list[ReadableSpan] = []
    for env in ("a", "b"):
        exporter = InMemorySpanExporter()
        provider = TracerProvider(resource=Resource({"env": env}, schema_url="https://x/schema"))
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        for name in ("one", "two"):
            provider.get_tracer("t1").start_span(name).end()
            provider.get_tracer("t2", "1.0").start_span(name).end()
        spans.extend(exporter.get_finished_spans())
        provider.shutdown()
    interleaved = spans[::2] + spans[1::2]
    assert _ours(interleaved) == _reference(interleaved)
    decoded = ExportTraceServiceRequest.FromString(_ours(interleaved))
    assert len(decoded.resource_spans) == 2
    assert sum(len(ss.spans) for rs in decoded.resource_spans for ss in rs.scope_spans) == len(spans)


def test_an_attribute_that_cannot_be_encoded_is_left_out_not_the_span(recorded: Any) -> None:
    provider, exporter = recorded
    span = provider.get_tracer("t").start_span("s")
    span.set_attribute("ok", "yes")
    span._attributes._dict["huge"] = 2**70  # outside int64: OpenTelemetry drops it with a log line too
    span.end()
    spans = list(exporter.get_finished_spans())
    assert _ours(spans) == _reference(spans)
    decoded = ExportTraceServiceRequest.FromString(_ours(spans)).resource_spans[0].scope_spans[0].spans[0]
    assert [kv.key for kv in decoded.attributes] == ["ok"]


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 2**32, 2**63 - 1, -1, -(2**63)])
def test_varint_matches_protobuf(value: int) -> None:
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue

    assert b"\x18" + varint(value) == AnyValue(int_value=value).SerializeToString()
    assert any_value(value) == AnyValue(int_value=value).SerializeToString()


def test_nested_values_match_protobuf() -> None:
    from opentelemetry.exporter.otlp.proto.common._internal import _encode_value

    for value in [{"a": [1, {"b": None}], "c": b"\x00\x01"}, (1.0, "x", True), {}, None]:
        assert any_value(value) == _encode_value(value).SerializeToString()


def test_dropped_counts_encode_like_opentelemetry() -> None:
    from opentelemetry.sdk.trace import SpanLimits

    exporter = InMemorySpanExporter()
    limits = SpanLimits(max_span_attributes=2, max_events=0, max_links=1, max_event_attributes=1)
    provider = TracerProvider(span_limits=limits)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    remote = SpanContext(0x1, 0x2, is_remote=False)
    span = provider.get_tracer("t").start_span(
        "s", attributes={"a": 1, "b": 2, "c": 3}, links=[Link(remote)] * 3
    )
    span.add_event("gone", {"x": 1, "y": 2})
    span.end()
    spans = list(exporter.get_finished_spans())
    assert spans[0].dropped_attributes and spans[0].dropped_events and spans[0].dropped_links
    assert _ours(spans) == _reference(spans)
    provider.shutdown()


def test_keys_with_a_new_value_per_span_stop_being_cached(recorded: Any) -> None:
    """Ids and inputs change with every span: caching their pairs only filled the cache (thousands of
    never-hit entries per fresh process); after a few values such a key is encoded uncached, and
    the bytes stay those of OpenTelemetry's encoder."""
    from langfuse_nb.tracing import otlp

    provider, exporter = recorded
    tracer = provider.get_tracer("langfuse-sdk")
    key = "test.unique-per-span"
    for i in range(otlp._PER_KEY_LIMIT * 3):
        tracer.start_span("s", attributes={key: f"value {i}", "test.constant": "same"}).end()
    spans = list(exporter.get_finished_spans())
    assert _ours(spans) == _reference(spans)
    cached = [pair for pair in otlp._pairs if pair[1] == key]
    assert len(cached) == otlp._PER_KEY_LIMIT
    assert key in otlp._unique_keys and "test.constant" not in otlp._unique_keys
    assert _ours(spans[-3:]) == _reference(spans[-3:])  # encoded uncached: the same bytes


@pytest.mark.parametrize(
    "value",
    ["", "x", "x" * 61, "x" * 62, "x" * 123, "x" * 124, "x" * 126, "é" * 61, "é" * 62, "\U0001f600" * 31],
)
@pytest.mark.parametrize("key", ["k", "langfuse.observation.input", "long." * 26])
def test_short_text_values_around_the_one_byte_lengths(recorded: Any, key: str, value: str) -> None:
    """Short strings are laid out in place with one-byte lengths; at and past the limits (value bytes,
    the whole pair with a long key) the bytes stay OpenTelemetry's."""
    provider, exporter = recorded
    provider.get_tracer("langfuse-sdk").start_span("s", attributes={key: value}).end()
    spans = list(exporter.get_finished_spans())
    assert _ours(spans) == _reference(spans)
