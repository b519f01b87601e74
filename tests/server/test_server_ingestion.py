"""POST /api/public/ingestion: 207 with per-event results; scores and legacy events."""

from __future__ import annotations

import pytest
import server_testkit as kit


def _post(client, batch, **extra):
    response = client.post(
        "/api/public/ingestion", json={"batch": batch, "metadata": {"sdk_name": "python"}, **extra}
    )
    assert response.status_code == 207, response.text
    kit.check(response.json(), "IngestionResponse")
    return response.json()


def test_scores_of_every_type_and_upsert(client):
    tid = kit.trace_id()
    batch = [
        {
            "id": "e1",
            "type": "score-create",
            "timestamp": "2024-01-01T00:00:00.123456Z",
            "body": {
                "id": f"{tid}-n",
                "traceId": tid,
                "name": "n",
                "value": 0.25,
                "comment": "c",
                "metadata": {"k": [1, 2]},
            },
        },
        {
            "id": "e2",
            "type": "score-create",
            "timestamp": "2024-01-01T00:00:00Z",
            "body": {"id": f"{tid}-b", "traceId": tid, "name": "b", "value": 1, "dataType": "BOOLEAN"},
        },
        {
            "id": "e3",
            "type": "score-create",
            "timestamp": "2024-01-01T00:00:00Z",
            "body": {
                "id": f"{tid}-c",
                "sessionId": "sess-x",
                "name": "c",
                "value": "great",
                "environment": "prod",
            },
        },
    ]
    result = _post(client, batch)
    assert result == {
        "successes": [{"id": "e1", "status": 201}, {"id": "e2", "status": 201}, {"id": "e3", "status": 201}],
        "errors": [],
    }
    numeric = client.get(f"/api/public/v2/scores/{tid}-n").json()
    assert numeric["timestamp"] == "2024-01-01T00:00:00.123456Z"  # exact round trip
    assert (numeric["value"], numeric["comment"], numeric["metadata"]) == (0.25, "c", {"k": [1, 2]})
    boolean = client.get(f"/api/public/v2/scores/{tid}-b").json()
    assert (boolean["dataType"], boolean["value"], boolean["stringValue"]) == ("BOOLEAN", 1, "True")
    categorical = client.get(f"/api/public/v2/scores/{tid}-c").json()
    assert (categorical["sessionId"], categorical["environment"]) == ("sess-x", "prod")
    _post(
        client,
        [
            {
                "id": "e4",
                "type": "score-create",
                "timestamp": "2024-01-01T00:00:00Z",
                "body": {"id": f"{tid}-n", "traceId": tid, "name": "n", "value": 0.75},
            }
        ],
    )
    assert client.get(f"/api/public/v2/scores/{tid}-n").json()["value"] == 0.75


def test_bad_events_fail_alone(client):
    tid = kit.trace_id()
    batch = [
        {
            "id": "ok",
            "type": "score-create",
            "timestamp": "2024-01-01T00:00:00Z",
            "body": {"traceId": tid, "name": "fine", "value": 1},
        },
        {
            "id": "no-name",
            "type": "score-create",
            "timestamp": "2024-01-01T00:00:00Z",
            "body": {"traceId": tid, "value": 1},
        },
        {
            "id": "bad-type",
            "type": "score-create",
            "timestamp": "2024-01-01T00:00:00Z",
            "body": {"traceId": tid, "name": "x", "value": "text", "dataType": "NUMERIC"},
        },
        {
            "id": "bad-bool",
            "type": "score-create",
            "timestamp": "2024-01-01T00:00:00Z",
            "body": {"traceId": tid, "name": "x", "value": 3, "dataType": "BOOLEAN"},
        },
        {"id": "unknown", "type": "mystery-event", "timestamp": "2024-01-01T00:00:00Z", "body": {}},
        {
            "id": "bad-time",
            "type": "score-create",
            "timestamp": "yesterday",
            "body": {"traceId": tid, "name": "x", "value": 1},
        },
        "not an object",
        {"id": "log", "type": "sdk-log", "timestamp": "2024-01-01T00:00:00Z", "body": {"log": "x"}},
    ]
    result = _post(client, batch)
    assert [s["id"] for s in result["successes"]] == ["ok", "log"]
    errors = {e["id"]: e for e in result["errors"]}
    assert set(errors) == {"no-name", "bad-type", "bad-bool", "unknown", "bad-time", "6"}
    assert all(e["status"] == 400 for e in errors.values())
    assert "name" in errors["no-name"]["error"] and "mystery-event" in errors["unknown"]["error"]
    listed = client.get("/api/public/v2/scores", params={"traceId": tid}).json()
    assert [s["name"] for s in listed["data"]] == ["fine"]


def test_legacy_trace_and_observation_events(client):
    tid = kit.trace_id()
    batch = [
        {
            "id": "t",
            "type": "trace-create",
            "timestamp": "2024-02-01T10:00:00Z",
            "body": {
                "id": tid,
                "name": "legacy",
                "userId": "u",
                "tags": ["x"],
                "input": {"a": 1},
                "metadata": {"m": 1},
                "timestamp": "2024-02-01T10:00:00Z",
            },
        },
        {
            "id": "s",
            "type": "span-create",
            "timestamp": "2024-02-01T10:00:00Z",
            "body": {
                "id": f"{tid}-span",
                "traceId": tid,
                "name": "span",
                "startTime": "2024-02-01T10:00:00Z",
            },
        },
        {
            "id": "g",
            "type": "generation-create",
            "timestamp": "2024-02-01T10:00:01Z",
            "body": {
                "id": f"{tid}-gen",
                "traceId": tid,
                "parentObservationId": f"{tid}-span",
                "name": "gen",
                "model": "m",
                "usage": {"input": 3, "output": 4},
                "startTime": "2024-02-01T10:00:01Z",
            },
        },
        {
            "id": "gu",
            "type": "generation-update",
            "timestamp": "2024-02-01T10:00:02Z",
            "body": {
                "id": f"{tid}-gen",
                "traceId": tid,
                "endTime": "2024-02-01T10:00:03Z",
                "output": "done",
                "level": "WARNING",
            },
        },
        {
            "id": "ev",
            "type": "event-create",
            "timestamp": "2024-02-01T10:00:02Z",
            "body": {"id": f"{tid}-ev", "traceId": tid, "name": "event"},
        },
        {
            "id": "su",
            "type": "span-update",
            "timestamp": "2024-02-01T10:00:04Z",
            "body": {"id": f"{tid}-span", "traceId": tid, "endTime": "2024-02-01T10:00:04Z"},
        },
    ]
    result = _post(client, batch)
    assert result["errors"] == []
    trace = client.get(f"/api/public/traces/{tid}").json()
    kit.check(trace, "TraceWithFullDetails")
    assert (trace["name"], trace["userId"], trace["tags"], trace["input"]) == ("legacy", "u", ["x"], {"a": 1})
    by_id = {o["id"]: o for o in trace["observations"]}
    gen = by_id[f"{tid}-gen"]
    assert (gen["type"], gen["model"], gen["output"], gen["level"]) == ("GENERATION", "m", "done", "WARNING")
    assert gen["usageDetails"] == {"input": 3, "output": 4, "total": 7}
    assert gen["name"] == "gen" and gen["endTime"] == "2024-02-01T10:00:03.000000Z"
    assert by_id[f"{tid}-ev"]["type"] == "EVENT" and by_id[f"{tid}-span"]["latency"] == 4.0
    assert trace["latency"] == 4.0


def test_observation_score_without_trace_gets_trace_later(client, send_spans):
    tid = kit.trace_id()
    obs = kit.span("late", trace=tid)
    _post(
        client,
        [
            {
                "id": "e",
                "type": "score-create",
                "timestamp": "2024-01-01T00:00:00Z",
                "body": {"id": f"{tid}-s", "observationId": obs["span_id"], "name": "x", "value": 1},
            }
        ],
    )
    assert client.get(f"/api/public/v2/scores/{tid}-s").json()["traceId"] is None
    send_spans([obs])
    assert client.get(f"/api/public/v2/scores/{tid}-s").json()["traceId"] == tid


def test_outer_shape_errors(client):
    for body in ({"batch": "nope"}, {"nothing": []}, [1, 2], {"batch": [], "metadata": "x"}):
        response = client.post("/api/public/ingestion", json=body)
        assert response.status_code == 400, body
        assert response.json()["message"].startswith("Invalid request data")


def test_create_score_endpoint(client):
    tid = kit.trace_id()
    created = client.post(
        "/api/public/scores", json={"traceId": tid, "name": "direct", "value": 0.5, "dataType": "NUMERIC"}
    )
    assert created.status_code == 200, created.text
    kit.check(created.json(), "CreateScoreResponse", "")
    assert client.get(f"/api/public/v2/scores/{created.json()['id']}").json()["value"] == 0.5
    bad = client.post("/api/public/scores", json={"traceId": tid, "value": 1})
    assert bad.status_code == 400 and "name" in bad.json()["message"]


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("score-create", {"name": "s", "value": 1, "traceId": "t", "dataType": {"x": 1}}),
        ("score-create", {"name": "s", "value": 1, "traceId": "t", "source": ["API"]}),
        ("span-create", {"id": "lvl", "traceId": "t", "level": {"x": 1}}),
    ],
)
def test_unhashable_enum_values_fail_only_their_event(client, kind, body):
    good = {"id": "good", "type": "trace-create", "body": {"id": f"ok-{kit.span_id()}"}}
    bad = {"id": "bad", "type": kind, "timestamp": "2024-01-01T00:00:00Z", "body": body}
    response = client.post("/api/public/ingestion", json={"batch": [good, bad]})
    assert response.status_code == 207, response.text
    assert [e["id"] for e in response.json()["errors"]] == ["bad"]
    assert [s["id"] for s in response.json()["successes"]] == ["good"]
    scores = client.post("/api/public/scores", json={"name": "s", "value": 1, "traceId": "t", "dataType": []})
    assert scores.status_code == 400, scores.text


def test_scores_with_equal_timestamps_keep_the_order_they_arrived_in(client, send_spans):
    # ties are broken by arrival (rowid), not by whichever index SQLite's statistics pick for the query
    tid = kit.trace_id()
    send_spans([kit.span(f"scored-{tid}", trace=tid)])
    stamp = "2024-01-01T00:00:00Z"
    ids = [f"{tid}-{suffix}" for suffix in ("z", "a", "m")]
    events = [
        {"id": f"e-{i}", "type": "score-create", "timestamp": stamp,
         "body": {"id": sid, "traceId": tid, "name": "tie", "value": 1, "timestamp": stamp}}
        for i, sid in enumerate(ids)
    ]  # fmt: skip
    _post(client, events)
    assert [s["id"] for s in client.get(f"/api/public/traces/{tid}").json()["scores"]] == ids
    (listed,) = client.get("/api/public/traces", params={"name": f"scored-{tid}"}).json()["data"]
    assert listed["scores"] == ids
