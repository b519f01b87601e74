"""OTLP ingest over HTTP: spans become traces and observations as server-ingestion.md describes."""

from __future__ import annotations

import gzip
import json
import zlib

import server_testkit as kit

A = "langfuse.observation"


def _trace(client, trace_id):
    response = client.get(f"/api/public/traces/{trace_id}")
    assert response.status_code == 200, response.text
    body = response.json()
    kit.check(body, "TraceWithFullDetails")
    return body


def test_nested_spans_become_one_trace_with_typed_observations(client, send_spans):
    tid = kit.trace_id()
    root = kit.span(
        "root",
        trace=tid,
        attributes={
            f"{A}.type": "span",
            f"{A}.input": '{"q": 1}',
            f"{A}.output": "plain text",
            f"{A}.metadata.team": "search",
            f"{A}.metadata.score": "0.5",
        },
    )
    children = [
        kit.span(t, trace=tid, parent=root["span_id"], attributes={f"{A}.type": t})
        for t in (
            "generation",
            "event",
            "agent",
            "tool",
            "chain",
            "retriever",
            "evaluator",
            "embedding",
            "guardrail",
        )
    ]
    send_spans([*children, root])
    trace = _trace(client, tid)
    assert trace["name"] == "root"
    assert trace["input"] == {"q": 1} and trace["output"] == "plain text"
    types = sorted(o["type"] for o in trace["observations"])
    assert types == sorted(
        [
            "SPAN",
            "GENERATION",
            "EVENT",
            "AGENT",
            "TOOL",
            "CHAIN",
            "RETRIEVER",
            "EVALUATOR",
            "EMBEDDING",
            "GUARDRAIL",
        ]
    )
    root_obs = next(o for o in trace["observations"] if o["id"] == root["span_id"])
    assert root_obs["metadata"]["team"] == "search" and root_obs["metadata"]["score"] == 0.5
    assert root_obs["metadata"]["scope"]["name"] == "langfuse-sdk"
    assert root_obs["metadata"]["resourceAttributes"]["telemetry.sdk.language"] == "python"
    assert all(
        o["parentObservationId"] == root["span_id"] for o in trace["observations"] if o is not root_obs
    )
    assert trace["latency"] >= 0 and trace["totalCost"] == 0


def test_generation_fields_usage_cost_and_completion_start(client, send_spans):
    tid = kit.trace_id()
    gen = kit.span(
        "llm",
        trace=tid,
        start_ns=1_700_000_000_123_456_789,
        attributes={
            f"{A}.type": "generation",
            f"{A}.model.name": "gpt-4o",
            f"{A}.model.parameters": json.dumps({"temperature": 0.2, "stop": ["x"]}),
            f"{A}.usage_details": json.dumps({"input": 5, "output": 2}),
            f"{A}.cost_details": json.dumps({"input": 0.001, "output": 0.002}),
            f"{A}.completion_start_time": json.dumps("2023-11-14T22:13:20.500000Z"),
        },
    )
    send_spans([gen])
    obs = client.get(f"/api/public/observations/{gen['span_id']}").json()
    kit.check(obs, "ObservationsViewSingle", "ObservationsView")
    assert obs["startTime"] == "2023-11-14T22:13:20.123456Z"  # microseconds kept (DEVIATIONS S1)
    assert obs["completionStartTime"] == "2023-11-14T22:13:20.500000Z"
    assert obs["model"] == "gpt-4o"
    assert obs["modelParameters"] == {"temperature": 0.2, "stop": '["x"]'}
    assert obs["usageDetails"] == {"input": 5, "output": 2, "total": 7}
    assert obs["costDetails"]["total"] == 0.003
    assert obs["calculatedTotalCost"] == 0.003
    assert obs["usage"] == {"input": 5, "output": 2, "total": 7, "unit": "TOKENS"}
    assert abs(obs["timeToFirstToken"] - 0.376544) < 1e-6
    assert _trace(client, tid)["totalCost"] == 0.003


def test_trace_attributes_from_any_span_and_merge_rules(client, send_spans):
    tid = kit.trace_id()
    root = kit.span("root", trace=tid, attributes={f"{A}.type": "span", "langfuse.environment": "prod"})
    child = kit.span(
        "child",
        trace=tid,
        parent=root["span_id"],
        attributes={
            "langfuse.trace.name": "named",
            "user.id": "u-1",
            "session.id": "s-1",
            "langfuse.trace.tags": ["b", "a"],
            "langfuse.trace.metadata.k": "v",
            "langfuse.version": "v2",
            "langfuse.trace.public": True,
            "langfuse.trace.input": "trace in",
        },
    )
    child2 = kit.span("child2", trace=tid, parent=root["span_id"], attributes={"langfuse.trace.tags": ["c"]})
    send_spans([child])
    send_spans([child2, root], resource={**kit.RESOURCE, "langfuse.release": "r-9"})
    trace = _trace(client, tid)
    assert trace["name"] == "named"  # explicit trace name beats the root's span name
    assert (trace["userId"], trace["sessionId"], trace["version"]) == ("u-1", "s-1", "v2")
    assert trace["tags"] == ["a", "b", "c"] and trace["public"] is True
    assert trace["metadata"]["k"] == "v" and trace["input"] == "trace in"
    assert trace["release"] == "r-9" and trace["environment"] == "prod"
    session = client.get("/api/public/sessions/s-1").json()
    kit.check(session, "SessionWithTraces")
    assert [t["id"] for t in session["traces"]] == [tid]


def test_as_root_and_unknown_parent(client, send_spans):
    tid = kit.trace_id()
    orphan = kit.span(
        "entry",
        trace=tid,
        parent=kit.span_id(),
        attributes={"langfuse.internal.as_root": True, f"{A}.input": "hello"},
    )
    send_spans([orphan])
    trace = _trace(client, tid)
    assert trace["name"] == "entry" and trace["input"] == "hello"
    assert trace["observations"][0]["parentObservationId"] == orphan["parent"]


def test_levels_from_attribute_and_status(client, send_spans):
    tid = kit.trace_id()
    spans = [
        kit.span("warn", trace=tid, attributes={f"{A}.level": "WARNING", f"{A}.status_message": "careful"}),
        kit.span("failed", trace=tid, status_code=2, status_message="ValueError: boom"),
        kit.span("ok", trace=tid),
    ]
    send_spans(spans)
    by_name = {o["name"]: o for o in _trace(client, tid)["observations"]}
    assert (by_name["warn"]["level"], by_name["warn"]["statusMessage"]) == ("WARNING", "careful")
    assert (by_name["failed"]["level"], by_name["failed"]["statusMessage"]) == ("ERROR", "ValueError: boom")
    assert by_name["ok"]["level"] == "DEFAULT"
    errors = client.get("/api/public/observations", params={"traceId": tid, "level": "ERROR"}).json()
    assert [o["name"] for o in errors["data"]] == ["failed"]


def test_third_party_spans_are_stored_with_mapped_types(client, send_spans):
    tid = kit.trace_id()
    spans = [
        kit.span(
            "chat gpt-4",
            trace=tid,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4",
                "gen_ai.usage.input_tokens": 3,
                "gen_ai.usage.output_tokens": 4,
            },
        ),
        kit.span("GET /", trace=tid, attributes={"http.method": "GET"}),
        kit.span(
            "retrieve", trace=tid, attributes={"openinference.span.kind": "RETRIEVER", "input.value": "query"}
        ),
    ]
    send_spans(spans, scope={"name": "opentelemetry.instrumentation.fastapi", "version": "0.1"})
    by_name = {o["name"]: o for o in _trace(client, tid)["observations"]}
    assert by_name["chat gpt-4"]["type"] == "GENERATION"
    assert by_name["chat gpt-4"]["usageDetails"] == {"input": 3, "output": 4, "total": 7}
    assert by_name["GET /"]["type"] == "SPAN"
    assert by_name["GET /"]["metadata"]["attributes"] == {"http.method": "GET"}
    assert by_name["retrieve"]["type"] == "RETRIEVER" and by_name["retrieve"]["input"] == "query"


def test_prompt_linking_only_for_existing_prompt(client, send_spans):
    created = client.post("/api/public/v2/prompts", json={"name": "otlp-link", "prompt": "p", "type": "text"})
    assert created.status_code == 200
    tid = kit.trace_id()
    linked = kit.span(
        "linked",
        trace=tid,
        attributes={f"{A}.type": "generation", f"{A}.prompt.name": "otlp-link", f"{A}.prompt.version": 1},
    )
    dangling = kit.span(
        "dangling",
        trace=tid,
        attributes={f"{A}.type": "generation", f"{A}.prompt.name": "otlp-link", f"{A}.prompt.version": 99},
    )
    send_spans([linked, dangling])
    by_name = {o["name"]: o for o in _trace(client, tid)["observations"]}
    assert by_name["linked"]["promptId"] == created.json()["id"]
    assert (by_name["linked"]["promptName"], by_name["linked"]["promptVersion"]) == ("otlp-link", 1)
    assert by_name["dangling"]["promptId"] is None and by_name["dangling"]["promptName"] is None


def test_experiment_attributes_and_environment(client, send_spans):
    tid = kit.trace_id()
    root = kit.span(
        "experiment-item-run",
        trace=tid,
        attributes={
            "langfuse.environment": "sdk-experiment",
            "langfuse.experiment.id": "run-1",
            "langfuse.experiment.name": "exp - now",
            "langfuse.experiment.item.id": "item-1",
            "langfuse.experiment.item.expected_output": "42",
        },
    )
    send_spans([root])
    obs = client.get(f"/api/public/observations/{root['span_id']}").json()
    assert obs["environment"] == "sdk-experiment"
    assert obs["experimentId"] == "run-1" and obs["experimentItemId"] == "item-1"
    listed = client.get("/api/public/traces", params={"environment": "sdk-experiment"}).json()
    assert tid in [t["id"] for t in listed["data"]]


def test_json_gzip_and_deflate_encodings(client):
    for encode, encoding in ((gzip.compress, "gzip"), (zlib.compress, "deflate"), (lambda b: b, None)):
        tid = kit.trace_id()
        spans = [kit.span("enc", trace=tid)]
        for body, ctype in (
            (kit.protobuf_request(spans), "application/x-protobuf"),
            (json.dumps(kit.json_request([kit.span("json", trace=tid)])).encode(), "application/json"),
        ):
            headers = {"content-type": ctype, **({"content-encoding": encoding} if encoding else {})}
            response = client.post("/api/public/otel/v1/traces", content=encode(body), headers=headers)
            assert response.status_code == 200, (encoding, ctype, response.text)
        names = sorted(o["name"] for o in _trace(client, tid)["observations"])
        assert names == ["enc", "json"]


def test_resent_span_is_idempotent_and_keeps_first_start(client, send_spans):
    tid = kit.trace_id()
    first = kit.span("s", trace=tid, start_ns=1_700_000_000_000_000_000)
    send_spans([first])
    again = dict(
        first,
        start=first["start"] + 5_000_000_000,
        end=first["end"] + 5_000_000_000,
        attributes={f"{A}.output": "late"},
    )
    send_spans([again])
    trace = _trace(client, tid)
    assert len(trace["observations"]) == 1
    assert trace["observations"][0]["startTime"] == "2023-11-14T22:13:20.000000Z"
    assert trace["observations"][0]["output"] == "late"


def test_empty_request_is_ok(client):
    response = client.post(
        "/api/public/otel/v1/traces", content=b"", headers={"content-type": "application/x-protobuf"}
    )
    assert response.status_code == 200 and response.json() == {}
    kit.check(response.json(), "OtelTraceResponse", "")
