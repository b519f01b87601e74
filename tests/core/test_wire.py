"""Spans exported over real OTLP/HTTP to the loopback sink, checked against otel-attributes.md."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A


def test_otlp_request_headers_and_endpoint(lf: Any) -> None:
    client = lf.client(additional_headers={"x-extra": "1"})
    client.start_span(name="h").end()
    lf.spans(client)
    key = client._settings.public_key
    reqs = [r for r in lf.sink.requests if r["headers"].get("x-langfuse-public-key") == key]
    headers = reqs[0]["headers"]
    assert headers["authorization"] == "Basic " + base64.b64encode(f"{key}:sk-lf-test".encode()).decode()
    assert headers["x-langfuse-sdk-name"] == "python"
    assert headers["x-langfuse-sdk-version"] == "3.11.2"
    assert headers["content-type"] == "application/x-protobuf"
    assert headers["x-extra"] == "1"


def test_scope_ids_and_resource(lf: Any) -> None:
    client = lf.client(environment="dev", release="abc123")
    with client.start_as_current_span(name="root") as root:
        child = root.start_span("child")
        child.end()
    spans = {s["name"]: s for s in lf.spans(client)}
    root_span, child_span = spans["root"], spans["child"]
    assert root_span["scope"] == {
        "name": "langfuse-sdk",
        "version": "3.11.2",
        "attributes": {"public_key": client._settings.public_key},
    }
    assert len(root_span["trace_id"]) == 32 and len(root_span["span_id"]) == 16
    assert root.id == root_span["span_id"] and root.trace_id == root_span["trace_id"]
    assert child_span["parent_span_id"] == root_span["span_id"]
    assert root_span["parent_span_id"] is None
    # K11: environment and release on the resource; environment also on spans, release never
    assert root_span["resource"]["langfuse.environment"] == "dev"
    assert root_span["resource"]["langfuse.release"] == "abc123"
    assert root_span["attributes"][A.ENVIRONMENT] == "dev"
    assert child_span["attributes"][A.ENVIRONMENT] == "dev"
    assert A.RELEASE not in root_span["attributes"]


def test_generation_worked_example(lf: Any, attrs_of: Any) -> None:
    class Prompt:
        name, version, is_fallback = "greeting", 3, False

    client = lf.client(environment="dev")
    with client.start_as_current_observation(
        name="llm-call",
        as_type="generation",
        input=[{"role": "user", "content": "hi"}],
        model="gpt-4o",
        model_parameters={"temperature": 0.2},
        prompt=Prompt(),
        metadata={"team": "search", "k": 7},
    ) as gen:
        gen.update(
            output="Hello!",
            usage_details={"input": 5, "output": 2},
            cost_details={"total": 0.0001},
            completion_start_time=dt.datetime(2025, 5, 1, 10, 0, 0, 250000, tzinfo=dt.timezone.utc),
        )
    assert attrs_of(client, "llm-call") == {
        A.OBSERVATION_TYPE: "generation",
        A.ENVIRONMENT: "dev",
        A.OBSERVATION_INPUT: '[{"role": "user", "content": "hi"}]',
        A.OBSERVATION_OUTPUT: "Hello!",
        A.OBSERVATION_MODEL: "gpt-4o",
        A.OBSERVATION_MODEL_PARAMETERS: '{"temperature": 0.2}',
        A.OBSERVATION_USAGE_DETAILS: '{"input": 5, "output": 2}',
        A.OBSERVATION_COST_DETAILS: '{"total": 0.0001}',
        A.OBSERVATION_COMPLETION_START_TIME: '"2025-05-01T10:00:00.250000Z"',
        A.OBSERVATION_PROMPT_NAME: "greeting",
        A.OBSERVATION_PROMPT_VERSION: 3,
        "langfuse.observation.metadata.team": "search",
        "langfuse.observation.metadata.k": 7,
    }


def test_fallback_prompt_and_span_types_ignore_generation_fields(lf: Any, attrs_of: Any) -> None:
    class Fallback:
        name, version, is_fallback = "p", 1, True

    client = lf.client()
    client.start_observation(name="g", as_type="generation", prompt=Fallback(), model="m").end()
    client.start_observation(name="t", as_type="tool", model="m", usage_details={"a": 1}).end()
    assert A.OBSERVATION_PROMPT_NAME not in attrs_of(client, "g")
    assert attrs_of(client, "t") == {A.OBSERVATION_TYPE: "tool"}


def test_metadata_flattening_k2(lf: Any, attrs_of: Any) -> None:
    client = lf.client()
    client.start_span(
        name="m", metadata={"s": "x", "i": 1, "b": False, "f": 0.5, "l": [1], "n": None, "d": {"k": 1}}
    ).end()
    client.start_span(name="m2", metadata=["a", 1]).end()
    client.start_span(name="m3", metadata="just text").end()
    a = attrs_of(client, "m")
    prefix = "langfuse.observation.metadata."
    assert {k[len(prefix) :]: v for k, v in a.items() if k.startswith(prefix)} == {
        "s": "x",
        "i": 1,
        "b": False,
        "f": "0.5",
        "l": "[1]",
        "d": '{"k": 1}',
    }
    assert attrs_of(client, "m2")[A.OBSERVATION_METADATA] == '["a", 1]'
    assert attrs_of(client, "m3")[A.OBSERVATION_METADATA] == "just text"


def test_string_io_raw_and_json_otherwise_k1(lf: Any, attrs_of: Any) -> None:
    client = lf.client()
    client.start_span(name="io", input='{"a":1}', output={"a": 1}).end()
    a = attrs_of(client, "io")
    assert a[A.OBSERVATION_INPUT] == '{"a":1}'
    assert a[A.OBSERVATION_OUTPUT] == '{"a": 1}'


def test_update_trace_attributes(lf: Any, attrs_of: Any) -> None:
    client = lf.client()
    with client.start_as_current_span(name="t"):
        client.update_current_trace(
            name="N",
            user_id="u",
            session_id="s",
            version="v",
            input={"i": 1},
            output="o",
            metadata={"m": "x"},
            tags=["a", "b"],
            public=True,
        )
    assert attrs_of(client, "t") == {
        A.OBSERVATION_TYPE: "span",
        A.TRACE_NAME: "N",
        A.TRACE_USER_ID: "u",
        A.TRACE_SESSION_ID: "s",
        A.VERSION: "v",
        A.TRACE_INPUT: '{"i": 1}',
        A.TRACE_OUTPUT: "o",
        "langfuse.trace.metadata.m": "x",
        A.TRACE_TAGS: ["a", "b"],
        A.TRACE_PUBLIC: True,
    }


def test_level_error_sets_status_and_exceptions_k7(lf: Any) -> None:
    client = lf.client()
    client.start_span(name="lvl", level="ERROR", status_message="broken").end()
    try:
        with client.start_as_current_observation(name="exc", as_type="agent"):
            raise KeyError("missing")
    except KeyError:
        pass
    spans = {s["name"]: s for s in lf.spans(client)}
    assert spans["lvl"]["status"] == {"code": 2, "message": "broken"}
    assert spans["exc"]["status"] == {"code": 2, "message": "KeyError: 'missing'"}
    assert spans["exc"]["events"][0]["name"] == "exception"


def test_trace_context_as_root_k4(lf: Any, attrs_of: Any) -> None:
    client = lf.client()
    tid = client.create_trace_id(seed="seed-1")
    client.start_span(name="no-parent", trace_context={"trace_id": tid}).end()
    context = {"trace_id": tid, "parent_span_id": "00000000000000ab"}
    client.start_span(name="with-parent", trace_context=context).end()
    spans = {s["name"]: s for s in lf.spans(client)}
    for name in ("no-parent", "with-parent"):
        assert spans[name]["trace_id"] == tid
        assert spans[name]["attributes"][A.AS_ROOT] is True
        assert spans[name]["parent_span_id"]  # a parent id that is never exported
    assert spans["with-parent"]["parent_span_id"] == "00000000000000ab"


def test_create_trace_id_k5() -> None:
    import hashlib

    from langfuse_nb import Langfuse

    assert Langfuse.create_trace_id(seed="abc") == hashlib.sha256(b"abc").digest()[:16].hex()
    random_id = Langfuse.create_trace_id()
    assert len(random_id) == 32 and random_id != Langfuse.create_trace_id()


def test_update_never_changes_type_f7(lf: Any, attrs_of: Any) -> None:
    client = lf.client()
    with client.start_as_current_observation(name="g", as_type="generation"):
        client.update_current_span(output="x", name="g2")
    with client.start_as_current_observation(name="a", as_type="agent"):
        client.update_current_generation(model="m")
    assert attrs_of(client, "g2")[A.OBSERVATION_TYPE] == "generation"
    assert attrs_of(client, "a")[A.OBSERVATION_TYPE] == "agent"
    assert attrs_of(client, "a")[A.OBSERVATION_MODEL] == "m"


def test_events_from_span_are_children_f8(lf: Any) -> None:
    client = lf.client()
    span = client.start_span(name="p")
    span.start_observation(name="e1", as_type="event")
    span.create_event(name="e2")
    span.end()
    spans = {s["name"]: s for s in lf.spans(client)}
    assert spans["e1"]["parent_span_id"] == spans["p"]["span_id"]
    assert spans["e2"]["parent_span_id"] == spans["p"]["span_id"]
    assert spans["e1"]["start"] == spans["e1"]["end"]


def test_all_ten_types_via_registry(lf: Any) -> None:
    import langfuse_nb
    from langfuse_nb.sdk.observations import OBSERVATION_CLASSES

    client = lf.client()
    types = [
        "span",
        "generation",
        "event",
        "agent",
        "tool",
        "chain",
        "retriever",
        "evaluator",
        "embedding",
        "guardrail",
    ]
    assert set(OBSERVATION_CLASSES) == set(types)
    for t in types:
        obs = client.start_observation(name=f"x-{t}", as_type=t)  # type: ignore[arg-type]
        assert type(obs).__name__ == f"Langfuse{t.capitalize()}"
        assert isinstance(obs, getattr(langfuse_nb, f"Langfuse{t.capitalize()}"))
        if t != "event":
            obs.end()
    got = {s["name"]: s["attributes"][A.OBSERVATION_TYPE] for s in lf.spans(client)}
    assert got == {f"x-{t}": t for t in types}


def test_event_update_is_ignored(lf: Any, attrs_of: Any) -> None:
    client = lf.client()
    ev = client.create_event(name="ev", input="i")
    assert ev.update(output="late") is ev
    assert A.OBSERVATION_OUTPUT not in attrs_of(client, "ev")


def test_child_inherits_environment_and_nested_context(lf: Any) -> None:
    client = lf.client(environment="prod")
    with (
        client.start_as_current_span(name="outer") as outer,
        outer.start_as_current_observation(name="inner", as_type="tool") as inner,
    ):
        assert client.get_current_observation_id() == inner.id
        assert client.get_current_trace_id() == outer.trace_id
    spans = {s["name"]: s for s in lf.spans(client)}
    assert spans["inner"]["parent_span_id"] == spans["outer"]["span_id"]
    assert spans["inner"]["attributes"][A.ENVIRONMENT] == "prod"


def test_end_on_exit_false_keeps_span_open(lf: Any) -> None:
    client = lf.client()
    with client.start_as_current_span(name="open", end_on_exit=False) as span:
        pass
    assert not [s for s in lf.spans(client) if s["name"] == "open"]
    span.end()
    assert [s for s in lf.spans(client) if s["name"] == "open"]


def test_deprecated_methods_warn(lf: Any) -> None:
    import pytest

    client = lf.client()
    with pytest.warns(DeprecationWarning):
        client.start_generation(name="old").end()
    with pytest.warns(DeprecationWarning), client.start_as_current_generation(name="old2"):
        pass
    span = client.start_span(name="p")
    with pytest.warns(DeprecationWarning):
        span.start_generation(name="c").end()
    span.end()


def test_json_values_are_valid_json(lf: Any, attrs_of: Any) -> None:
    client = lf.client()
    client.start_span(name="j", input={"nested": {"list": [1, 2, {"x": None}]}}).end()
    assert json.loads(attrs_of(client, "j")[A.OBSERVATION_INPUT]) == {"nested": {"list": [1, 2, {"x": None}]}}


def test_span_start_span_accepts_positional_fields_like_upstream(lf: Any, attrs_of: Any) -> None:
    client = lf.client()
    parent = client.start_span(name="p")
    parent.start_span("c", "in", "out").end()
    parent.end()
    a = attrs_of(client, "c")
    assert a[A.OBSERVATION_INPUT] == "in" and a[A.OBSERVATION_OUTPUT] == "out"


def test_start_as_current_observation_as_decorator(lf: Any) -> None:
    import asyncio

    client = lf.client()

    @client.start_as_current_observation(name="decorated", as_type="tool")
    def work(x: int) -> int:
        return x + 1

    @client.start_as_current_span(name="adecorated")
    async def awork() -> str:
        return "ok"

    assert work(1) == 2 and work(2) == 3
    assert asyncio.run(awork()) == "ok"
    spans = lf.spans(client)
    types = [s["attributes"][A.OBSERVATION_TYPE] for s in spans if s["name"] == "decorated"]
    assert types == ["tool", "tool"]
    assert len([s for s in spans if s["name"] == "adecorated"]) == 1


def test_malformed_trace_context_never_breaks_the_caller(lf: Any) -> None:
    client = lf.client()
    span = client.start_span(name="bad", trace_context={"trace_id": "not-hex"})
    span.update(output="x").end()
    with client.start_as_current_span(name="bad-cm", trace_context={"trace_id": "zz"}) as s:
        s.update(output="still runs")
    trace_id = client.create_trace_id()
    client.start_span(name="bad-parent", trace_context={"trace_id": trace_id, "parent_span_id": "zz"}).end()

    from langfuse_nb import observe

    @observe
    def decorated() -> str:
        return "ok"

    assert decorated(langfuse_trace_id="nope") == "ok"
    # an unusable trace context is ignored (one warning): the observation is still recorded
    spans = {x["name"]: x for x in lf.spans(client)}
    assert sorted(spans) == ["bad", "bad-cm", "bad-parent", "decorated"]
    for name in ("bad", "bad-cm", "decorated"):
        assert A.AS_ROOT not in spans[name]["attributes"]
    assert spans["bad"]["attributes"][A.OBSERVATION_OUTPUT] == "x"
    assert spans["bad-parent"]["trace_id"] == trace_id
