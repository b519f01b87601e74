"""Scores go out as score-create events in batches to /api/public/ingestion (K10)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest


def test_score_kinds_and_envelope(lf: Any) -> None:
    client = lf.client(environment="dev")
    with client.start_as_current_span(name="s") as span:
        client.score_current_span(name="num", value=1, comment="c")
        client.score_current_trace(name="cat", value="good", data_type="CATEGORICAL")
        span.score(name="bool", value=True, data_type="BOOLEAN")
        span.score_trace(name="t", value=0.5, score_id="fixed-id")
    client.create_score(
        name="sess",
        value=2,
        session_id="sess-1",
        metadata={"m": [1]},
        timestamp=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc),
        config_id="cfg",
    )
    events = {e["body"]["name"]: e for e in lf.scores(client)}
    assert set(events) == {"num", "cat", "bool", "t", "sess"}
    for e in events.values():
        assert e["type"] == "score-create" and len(e["id"]) == 32 and e["timestamp"].endswith("Z")
        assert e["body"]["environment"] == "dev"
    assert events["num"]["body"] == {
        "id": events["num"]["body"]["id"],
        "traceId": span.trace_id,
        "observationId": span.id,
        "name": "num",
        "value": 1.0,
        "comment": "c",
        "environment": "dev",
    }
    assert events["cat"]["body"]["value"] == "good" and "observationId" not in events["cat"]["body"]
    assert events["bool"]["body"]["value"] == 1.0 and events["bool"]["body"]["dataType"] == "BOOLEAN"
    assert events["t"]["body"]["id"] == "fixed-id"
    assert events["sess"]["body"]["sessionId"] == "sess-1"
    assert events["sess"]["timestamp"] == "2025-01-01T00:00:00Z"
    assert events["sess"]["body"]["configId"] == "cfg" and events["sess"]["body"]["metadata"] == {"m": [1]}


def test_batch_metadata_and_headers(lf: Any) -> None:
    client = lf.client()
    client.create_score(name="x", value=1, trace_id=client.create_trace_id())
    client.flush()
    key = client._settings.public_key
    batch = next(b for b in list(lf.sink.ingestion) if b["metadata"]["public_key"] == key)
    assert batch["metadata"] == {
        "batch_size": 1,
        "sdk_name": "python",
        "sdk_version": "3.11.2",
        "public_key": key,
    }
    req = next(
        r
        for r in list(lf.sink.requests)
        if r["path"].endswith("/ingestion") and r["headers"]["x-langfuse-public-key"] == key
    )
    assert req["headers"]["authorization"].startswith("Basic ")


def test_disabled_client_sends_no_scores(lf: Any) -> None:
    client = lf.client(tracing_enabled=False)
    client.create_score(name="x", value=1)
    assert lf.scores(client) == []


def test_many_scores_are_batched(lf: Any) -> None:
    client = lf.client()
    for i in range(40):
        client.create_score(name=f"s{i}", value=i, trace_id=client.create_trace_id())
    assert len(lf.scores(client)) == 40
    key = client._settings.public_key
    batches = [b for b in list(lf.sink.ingestion) if b["metadata"]["public_key"] == key]
    sizes = [b["metadata"]["batch_size"] for b in batches]
    # flush_at (15) triggers a send; a backlog drains in larger requests, so never more than 3 here
    assert sum(sizes) == 40 and len(sizes) <= 3


def test_unknown_score_kwarg_raises(lf: Any) -> None:
    client = lf.client()
    with pytest.raises(TypeError):
        client.create_score(name="x", value=1, colour="red")


def test_score_event_builder_is_pure() -> None:
    from langfuse_nb.sdk.scores import score_event

    e = score_event({"name": "n", "value": 3, "trace_id": "t", "comment": None}, environment=None)
    assert e["body"]["value"] == 3.0 and "comment" not in e["body"] and "environment" not in e["body"]
    assert len(e["body"]["id"]) == 16


def test_partially_rejected_batch_names_the_rejected_events(
    server: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 207 with per-event errors: accepted scores are stored, the rejected one is named in the log."""
    import uuid

    from langfuse_nb.sdk import scores
    from langfuse_nb.sdk.client import Langfuse

    monkeypatch.setattr(scores, "_sleep", lambda _: None)
    client = Langfuse(public_key=server.public_key, secret_key=server.secret_key, base_url=server.url)
    name = f"ok-{uuid.uuid4().hex[:8]}"
    trace_id = client.create_trace_id()
    client.create_score(name=name, value=1, trace_id=trace_id)
    client.create_score(name="rejected", value="not a number", data_type="NUMERIC", trace_id=trace_id)
    client.flush(timeout=10)
    messages = [r.getMessage() for r in caplog.records]
    assert any("rejected (400)" in m for m in messages)
    assert not any("dropped" in m for m in messages)
    assert [s.value for s in client.api.score_v_2.get(name=name).data] == [1.0]
    client.shutdown(timeout=5)


def test_scores_the_server_cannot_take_are_refused_locally(lf: Any, caplog: pytest.LogCaptureFixture) -> None:
    client = lf.client()
    trace_id = client.create_trace_id()
    client.create_score(name="none", value=None, trace_id=trace_id)
    client.create_score(name="badtype", value=1, data_type="PERCENT", trace_id=trace_id)
    client.create_score(name="good", value=1, trace_id=trace_id)
    assert [e["body"]["name"] for e in lf.scores(client)] == ["good"]
    assert sum("not sent" in r.getMessage() for r in caplog.records) == 2


@pytest.mark.parametrize(("error_status", "retried"), [(500, True), (400, False)])
def test_partial_success_is_retried_only_for_server_errors(error_status: int, retried: bool) -> None:
    import httpx

    from langfuse_nb.sdk.scores import _post_once

    answer = {"successes": [], "errors": [{"id": "e1", "status": error_status, "message": "x"}]}
    http = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(207, json=answer)))
    assert _post_once(http, "http://sink.test/api/public/ingestion", b"{}", {}, 1.0).done is not retried


def test_scores_survive_a_500_that_used_to_end_after_three_tries(lf: Any) -> None:
    """The old sender gave up after 3 tries (~1.5 s); scores are now kept through the outage budget."""
    import threading

    client = lf.client()
    lf.sink.status_override = 500
    trace_id = client.create_trace_id()
    for i in range(5):
        client.create_score(name=f"outage-{i}", value=i, trace_id=trace_id)
    assert not client._resources.flush(timeout=2.5)  # still failing: kept, not dropped
    threading.Timer(0.1, lambda: setattr(lf.sink, "status_override", None)).start()
    names = {e["body"]["name"] for e in lf.scores(client)}
    assert {f"outage-{i}" for i in range(5)} <= names
    assert client._resources.dropped["scores"] == 0
