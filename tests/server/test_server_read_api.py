"""Trace, observation, score and session reads with their filters (isolated database)."""

from __future__ import annotations

import json

import httpx
import pytest
import server_testkit as kit

A = "langfuse.observation"
BASE_NS = 1_700_000_000_000_000_000
SECOND = 1_000_000_000


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """Five traces with known attributes, observations and scores in a private server."""
    from langfuse_nb.server.runner import start_in_thread

    handle = start_in_thread(db_path=tmp_path_factory.mktemp("read") / "lf.db")
    http = httpx.Client(base_url=handle.url, auth=(handle.public_key, handle.secret_key), timeout=10)
    traces = []
    for i in range(5):
        tid = f"{i:032x}"
        root = kit.span(
            f"trace-{i}",
            trace=tid,
            sid=f"{i:016x}",
            start_ns=BASE_NS + i * SECOND,
            duration_ns=2 * SECOND,
            attributes={
                "user.id": "alice" if i % 2 == 0 else "bob",
                "session.id": f"sess-{i % 2}",
                "langfuse.trace.tags": ["even" if i % 2 == 0 else "odd", "all"],
                "langfuse.version": f"v{i}",
                "langfuse.environment": "prod" if i < 3 else "dev",
                "langfuse.trace.metadata.team": "a" if i < 2 else "b",
            },
        )
        child = kit.span(
            "llm",
            trace=tid,
            parent=root["span_id"],
            start_ns=BASE_NS + i * SECOND,
            attributes={
                f"{A}.type": "generation",
                f"{A}.level": "ERROR" if i == 4 else "DEFAULT",
                f"{A}.cost_details": json.dumps({"total": 0.5}),
            },
        )
        body = kit.protobuf_request([child, root], resource={**kit.RESOURCE, "langfuse.release": "r1"})
        http.post(
            "/api/public/otel/v1/traces", content=body, headers={"content-type": "application/x-protobuf"}
        ).raise_for_status()
        traces.append({"id": tid, "root": root["span_id"], "child": child["span_id"]})
    scores = [
        {
            "id": f"ev-{i}",
            "type": "score-create",
            "timestamp": "2023-11-14T22:13:20Z",
            "body": {"id": f"score-{i}", "traceId": traces[i]["id"], "name": "quality", "value": i / 4},
        }
        for i in range(5)
    ]
    scores.append(
        {
            "id": "ev-obs",
            "type": "score-create",
            "timestamp": "2023-11-14T22:13:21Z",
            "body": {"id": "score-obs", "observationId": traces[0]["child"], "name": "tone", "value": "kind"},
        }
    )
    assert http.post("/api/public/ingestion", json={"batch": scores}).json()["errors"] == []
    yield http, traces
    http.close()
    handle.stop()


def _ids(response):
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


def test_trace_list_shape_and_pagination(seeded):
    http, traces = seeded
    body = http.get("/api/public/traces", params={"limit": 2, "page": 2}).json()
    kit.check(body, "Traces")
    assert body["meta"] == {"page": 2, "limit": 2, "totalItems": 5, "totalPages": 3}
    assert [t["id"] for t in body["data"]] == [traces[2]["id"], traces[1]["id"]]  # newest first
    item = body["data"][0]
    assert item["latency"] == 2.0 and item["totalCost"] == 0.5
    assert sorted(item["observations"]) == sorted([traces[2]["root"], traces[2]["child"]])
    assert item["scores"] == ["score-2"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"userId": "alice"}, [4, 2, 0]),
        ({"name": "trace-3"}, [3]),
        ({"sessionId": "sess-1"}, [3, 1]),
        ({"tags": ["odd", "all"]}, [3, 1]),
        ({"environment": ["dev"]}, [4, 3]),
        ({"version": "v2"}, [2]),
        ({"release": "r1"}, [4, 3, 2, 1, 0]),
        ({"fromTimestamp": "2023-11-14T22:13:22Z", "toTimestamp": "2023-11-14T22:13:24Z"}, [3, 2]),
        ({"orderBy": "timestamp.asc"}, [0, 1, 2, 3, 4]),
        ({"orderBy": "name.desc", "userId": "bob"}, [3, 1]),
    ],
)
def test_trace_list_filters(seeded, params, expected):
    http, traces = seeded
    assert _ids(http.get("/api/public/traces", params=params)) == [traces[i]["id"] for i in expected]


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        (
            [{"type": "datetime", "column": "timestamp", "operator": ">", "value": "2023-11-14T22:13:22Z"}],
            [4, 3],
        ),
        (
            [{"type": "stringOptions", "column": "environment", "operator": "any of", "value": ["prod"]}],
            [2, 1, 0],
        ),
        ([{"type": "string", "column": "userId", "operator": "=", "value": "bob"}], [3, 1]),
        ([{"type": "arrayOptions", "column": "tags", "operator": "none of", "value": ["even"]}], [3, 1]),
        (
            [{"type": "stringObject", "column": "metadata", "key": "team", "operator": "=", "value": "a"}],
            [1, 0],
        ),
        (
            [
                {"type": "string", "column": "name", "operator": "starts with", "value": "trace-"},
                {"type": "string", "column": "version", "operator": "contains", "value": "4"},
            ],
            [4],
        ),
    ],
)
def test_trace_filter_json(seeded, conditions, expected):
    http, traces = seeded
    response = http.get("/api/public/traces", params={"filter": json.dumps(conditions)})
    assert _ids(response) == [traces[i]["id"] for i in expected]


def test_trace_fields_groups(seeded):
    http, _ = seeded
    item = http.get("/api/public/traces", params={"fields": "core", "limit": 1}).json()["data"][0]
    assert item["observations"] == [] and item["scores"] == [] and item["latency"] == -1
    assert "input" not in item


def test_observation_list_filters(seeded):
    http, traces = seeded
    body = http.get("/api/public/observations", params={"type": "GENERATION"}).json()
    kit.check(body, "legacyObservationsViews", "ObservationsViews")
    assert body["meta"]["totalItems"] == 5
    assert _ids(http.get("/api/public/observations", params={"traceId": traces[1]["id"], "name": "llm"})) == [
        traces[1]["child"]
    ]
    assert _ids(http.get("/api/public/observations", params={"userId": "bob", "type": "GENERATION"})) == [
        traces[3]["child"],
        traces[1]["child"],
    ]
    assert _ids(http.get("/api/public/observations", params={"level": "ERROR"})) == [traces[4]["child"]]
    assert _ids(http.get("/api/public/observations", params={"parentObservationId": traces[2]["root"]})) == [
        traces[2]["child"]
    ]
    window = {"fromStartTime": "2023-11-14T22:13:21Z", "toStartTime": "2023-11-14T22:13:22Z", "type": "SPAN"}
    assert _ids(http.get("/api/public/observations", params=window)) == [traces[1]["root"]]
    resume = [
        {"type": "datetime", "column": "start_time", "operator": ">", "value": "2023-11-14T22:13:23Z"},
        {"type": "string", "column": "type", "operator": "=", "value": "SPAN"},
    ]
    assert _ids(http.get("/api/public/observations", params={"filter": json.dumps(resume)})) == [
        traces[4]["root"]
    ]


def test_scores_v2_list_get_delete(seeded):
    http, traces = seeded
    body = http.get(
        "/api/public/v2/scores", params={"name": "quality", "operator": ">=", "value": 0.5}
    ).json()
    kit.check(body, "GetScoresResponse")
    assert sorted(s["id"] for s in body["data"]) == ["score-2", "score-3", "score-4"]
    assert body["data"][0]["trace"]["tags"]
    assert _ids(http.get("/api/public/v2/scores", params={"userId": "bob", "name": "quality"})) == [
        "score-1",
        "score-3",
    ]
    tone = http.get("/api/public/v2/scores/score-obs").json()
    kit.check(tone, "Score")
    assert tone["traceId"] == traces[0]["id"]  # resolved from the observation
    assert (tone["dataType"], tone["stringValue"], tone["value"]) == ("CATEGORICAL", "kind", 0)
    trace = http.get(f"/api/public/traces/{traces[0]['id']}").json()
    assert sorted(s["name"] for s in trace["scores"]) == ["quality", "tone"]
    assert http.get("/api/public/v2/scores", params={"traceTags": ["odd"]}).json()["meta"]["totalItems"] == 2
    assert http.delete("/api/public/scores/score-obs").status_code == 204
    assert http.get("/api/public/v2/scores/score-obs").status_code == 404
    assert http.delete("/api/public/scores/score-obs").status_code == 404


def test_sessions(seeded):
    http, traces = seeded
    listing = http.get("/api/public/sessions").json()
    kit.check(listing, "PaginatedSessions")
    assert sorted(s["id"] for s in listing["data"]) == ["sess-0", "sess-1"]
    assert http.get("/api/public/sessions/nope").status_code == 404


def test_delete_traces(seeded):
    http, traces = seeded
    tid = kit.trace_id()
    http.post(
        "/api/public/otel/v1/traces",
        content=kit.protobuf_request(
            [kit.span("gone", trace=tid, attributes={"langfuse.trace.tags": ["doomed"]})]
        ),
        headers={"content-type": "application/x-protobuf"},
    ).raise_for_status()
    deleted = http.delete(f"/api/public/traces/{tid}")
    kit.check(deleted.json(), "DeleteTraceResponse")
    assert http.get(f"/api/public/traces/{tid}").status_code == 404
    assert http.get("/api/public/traces", params={"tags": "doomed"}).json()["meta"]["totalItems"] == 0
    assert http.delete(f"/api/public/traces/{tid}").status_code == 404
    assert http.request("DELETE", "/api/public/traces", json={"traceIds": [tid]}).status_code == 200


def test_all_of_tags_count_matches_page_whatever_the_tag_order(client, send_spans):
    marker = kit.span_id()
    common, rare = f"common-{marker}", f"rare-{marker}"
    spans = [
        kit.span("t", trace=kit.trace_id(), attributes={"langfuse.trace.tags": tags})
        for tags in ([common, rare], [common], [common], [rare], [common, rare])
    ]
    send_spans(spans)
    for order in ([common, rare], [rare, common]):
        body = client.get("/api/public/traces", params={"tags": order}).json()
        assert body["meta"]["totalItems"] == len(body["data"]) == 2
    assert client.get("/api/public/traces", params={"tags": [common]}).json()["meta"]["totalItems"] == 4


def test_observation_level_filter_uses_an_index(tmp_path):
    from langfuse_nb.server.store.db import Database

    db = Database(tmp_path / "plan.db")
    try:
        plan = db.reader.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM observations o WHERE coalesce(o.level, 'DEFAULT') = ? "
            "ORDER BY o.start_time DESC LIMIT 50",
            ("ERROR",),
        ).fetchall()
        assert any("observations_level" in row[3] for row in plan), [tuple(r) for r in plan]
    finally:
        db.close()


def test_ids_with_slashes_can_be_fetched_by_id(tmp_path):
    from langfuse_nb.api import LangfuseAPI
    from langfuse_nb.server.runner import start_in_thread

    handle = start_in_thread(port=0, db_path=tmp_path / "lf.db")
    try:
        api = LangfuseAPI(base_url=handle.url, username=handle.public_key, password=handle.secret_key)
        trace_id, session_id = "team/a/trace 1", "user/42"
        events = [
            {
                "id": "e1",
                "type": "trace-create",
                "timestamp": "2024-01-01T00:00:00Z",
                "body": {"id": trace_id, "name": "slashed", "sessionId": session_id},
            },
            {
                "id": "e2",
                "type": "span-create",
                "timestamp": "2024-01-01T00:00:00Z",
                "body": {"id": "obs/1", "traceId": trace_id, "name": "s"},
            },
            {
                "id": "e3",
                "type": "score-create",
                "timestamp": "2024-01-01T00:00:00Z",
                "body": {"id": "score/1", "traceId": trace_id, "name": "q", "value": 1},
            },
        ]
        assert api.ingestion.batch(batch=events).errors == []
        assert api.trace.get(trace_id).name == "slashed"
        assert api.observations.get("obs/1").trace_id == trace_id
        assert api.sessions.get(session_id).id == session_id
        assert api.score_v_2.get_by_id("score/1").name == "q"
        api.trace.delete(trace_id)
    finally:
        handle.stop()


def _tagged_traces(send_spans, tag, shapes):
    """One trace per (duration_ns, cost) with the given tag; returns their ids in order."""
    ids = []
    for i, (duration_ns, cost) in enumerate(shapes):
        tid = kit.trace_id()
        root = kit.span(
            f"t{i}",
            trace=tid,
            start_ns=BASE_NS + i * SECOND,
            duration_ns=duration_ns,
            attributes={"langfuse.trace.tags": [tag]},
        )
        child = kit.span(
            "llm",
            trace=tid,
            parent=root["span_id"],
            start_ns=BASE_NS + i * SECOND,
            attributes={f"{A}.type": "generation", f"{A}.cost_details": json.dumps({"total": cost})},
        )
        send_spans([child, root])
        ids.append(tid)
    return ids


def test_trace_list_orders_and_filters_by_latency_and_cost(client, send_spans):
    tag = f"metrics-{kit.span_id()}"
    a, b, c = _tagged_traces(send_spans, tag, [(SECOND // 1000, 0.3), (3 * SECOND, 0.1), (2 * SECOND, 0.2)])

    def ids(**params):
        return _ids(client.get("/api/public/traces", params={"tags": tag, **params}))

    assert ids(orderBy="latency.desc") == [b, c, a]
    assert ids(orderBy="latency.asc") == [a, c, b]
    assert ids(orderBy="totalCost.asc") == [b, c, a]
    slow = [{"type": "number", "column": "latency", "operator": ">", "value": 1.5}]
    assert ids(filter=json.dumps(slow), orderBy="latency.asc") == [c, b]
    cheap = [{"type": "number", "column": "totalCost", "operator": "<=", "value": 0.2}]
    assert sorted(ids(filter=json.dumps(cheap))) == sorted([b, c])
    body = client.get("/api/public/traces", params={"tags": tag, "orderBy": "latency.desc"}).json()
    assert [t["latency"] for t in body["data"]] == [3.0, 2.0, 0.001]
    assert body["data"][0]["totalCost"] == 0.1


def test_sub_millisecond_timings_keep_microseconds(client, send_spans):
    tid = kit.trace_id()
    span = kit.span("quick", trace=tid, start_ns=1_700_000_000_123_456_789, duration_ns=250_000)
    send_spans([span])
    observation = client.get(f"/api/public/observations/{span['span_id']}").json()
    assert observation["startTime"] == "2023-11-14T22:13:20.123456Z"
    assert observation["endTime"] == "2023-11-14T22:13:20.123706Z"
    assert observation["latency"] == pytest.approx(0.00025, abs=1e-7)
    assert client.get(f"/api/public/traces/{tid}").json()["latency"] == pytest.approx(0.00025, abs=1e-7)


@pytest.mark.parametrize(
    "path",
    [
        "/api/public/traces",
        "/api/public/observations",
        "/api/public/v2/scores",
        "/api/public/sessions",
        "/api/public/v2/prompts",
        "/api/public/v2/datasets",
    ],
)
def test_page_zero_and_limit_zero_are_accepted(seeded, path):
    http, _ = seeded
    first = http.get(path, params={"limit": 2}).json()
    zero = http.get(path, params={"limit": 2, "page": 0})
    assert zero.status_code == 200, zero.text
    assert zero.json() == first  # page 0 is served as the first page
    counts = http.get(path, params={"limit": 0})
    assert counts.status_code == 200, counts.text
    assert counts.json()["data"] == []
    assert counts.json()["meta"] == {**first["meta"], "limit": 0, "totalPages": 0}
    for bad in ({"page": -1}, {"limit": -1}, {"limit": 100_000}):
        assert http.get(path, params=bad).status_code == 400, bad


def test_read_fields_match_langfuse(seeded):
    """Numeric scores carry stringValue null, empty I/O reads as null, observations have Langfuse fields."""
    http, traces = seeded
    events = [
        {
            "id": "ev-empty",
            "type": "trace-create",
            "timestamp": "2023-11-14T22:13:30Z",
            "body": {"id": "trace-empty-output", "name": "empty", "input": "", "output": ""},
        }
    ]
    assert http.post("/api/public/ingestion", json={"batch": events}).json()["errors"] == []
    empty = http.get("/api/public/traces/trace-empty-output").json()
    assert (empty["input"], empty["output"]) == (None, None)
    kit.check(empty, "TraceWithFullDetails")
    numeric = http.get("/api/public/v2/scores/score-1").json()
    kit.check(numeric, "Score")
    assert "stringValue" in numeric and numeric["stringValue"] is None and numeric["metadata"] == {}
    detail = http.get(f"/api/public/traces/{traces[1]['id']}").json()
    assert detail["scores"][0]["stringValue"] is None
    generation = next(o for o in detail["observations"] if o["type"] == "GENERATION")
    for key in ("createdAt", "updatedAt", "unit", "promptTokens", "completionTokens", "totalTokens"):
        assert key in generation, key
    assert generation["calculatedTotalCost"] == 0.5 and generation["calculatedInputCost"] is None
    span = next(o for o in detail["observations"] if o["type"] == "SPAN")
    assert span["calculatedTotalCost"] == 0  # Langfuse: 0, not null, without a known cost


def test_unknown_field_groups_are_ignored(seeded):
    http, _ = seeded
    response = http.get("/api/public/traces", params={"fields": "core,bogus", "limit": 1})
    assert response.status_code == 200, response.text
    item = response.json()["data"][0]
    assert "input" not in item and item["latency"] == -1 and item["observations"] == []


def test_project_id_from_langfuse_init_variables(tmp_path, monkeypatch):
    from langfuse_nb.server.config import ServerConfig
    from langfuse_nb.server.runner import start_in_thread

    monkeypatch.setenv("LANGFUSE_INIT_PROJECT_ID", "my-ci-project")
    monkeypatch.setenv("LANGFUSE_INIT_PROJECT_NAME", "My CI project")
    monkeypatch.setenv("LANGFUSE_INIT_ORG_ID", "my-org")
    monkeypatch.setenv("LANGFUSE_API_TRACES_DEFAULT_FIELDS", "core,metrics")  # Langfuse's setting, too
    handle = start_in_thread(db_path=tmp_path / "lf.db")
    try:
        http = httpx.Client(base_url=handle.url, auth=(handle.public_key, handle.secret_key), timeout=10)
        project = http.get("/api/public/projects").json()["data"][0]
        assert (project["id"], project["name"], project["organization"]["id"]) == (
            "my-ci-project",
            "My CI project",
            "my-org",
        )
        tid = kit.trace_id()
        body = kit.protobuf_request([kit.span("root", trace=tid)])
        headers = {"content-type": "application/x-protobuf"}
        http.post("/api/public/otel/v1/traces", content=body, headers=headers).raise_for_status()
        trace = http.get(f"/api/public/traces/{tid}").json()
        assert trace["htmlPath"] == f"/project/my-ci-project/traces/{tid}"
        assert trace["projectId"] == trace["observations"][0]["projectId"] == "my-ci-project"
        bounded = http.get("/api/public/traces").json()["data"][0]
        assert "input" not in bounded and bounded["latency"] >= 0 and bounded["observations"] == []
        assert "input" in http.get("/api/public/traces", params={"fields": "core,io"}).json()["data"][0]
        page = http.get(f"/project/my-ci-project/traces/{tid}")
        assert page.status_code == 200 and tid in page.text
        assert http.get("/project/my-ci-project/traces").status_code == 200
        assert http.get("/project/someone-else/traces").status_code == 404
    finally:
        handle.stop()
    monkeypatch.setenv("LANGFUSE_INIT_PROJECT_ID", "../etc")
    with pytest.raises(ValueError, match="project id"):
        ServerConfig(db_path=tmp_path / "x.db")


def test_observation_filters_on_latency_tokens_and_cost(client, send_spans):
    tid = kit.trace_id()
    slow = kit.span(
        "slow",
        trace=tid,
        start_ns=BASE_NS,
        duration_ns=3 * SECOND,
        attributes={
            f"{A}.type": "generation",
            f"{A}.usage_details": json.dumps({"input": 100, "output": 30}),
            f"{A}.cost_details": json.dumps({"input": 0.01, "output": 0.02}),
        },
    )
    fast = kit.span("fast", trace=tid, start_ns=BASE_NS, duration_ns=SECOND // 10)
    send_spans([slow, fast])

    def names(*conditions):
        params = {"traceId": tid, "filter": json.dumps(list(conditions))}
        return [o["name"] for o in client.get("/api/public/observations", params=params).json()["data"]]

    assert names({"type": "number", "column": "latency", "operator": ">", "value": 1}) == ["slow"]
    assert names({"type": "number", "column": "latency", "operator": "<", "value": 1}) == ["fast"]
    assert names({"type": "number", "column": "outputTokens", "operator": ">=", "value": 30}) == ["slow"]
    assert names({"type": "number", "column": "inputCost", "operator": "=", "value": 0.01}) == ["slow"]
    assert names({"type": "number", "column": "tokensPerSecond", "operator": "=", "value": 10}) == ["slow"]


def test_score_field_groups(seeded):
    http, _ = seeded
    both = http.get("/api/public/v2/scores", params={"name": "quality", "limit": 1}).json()["data"][0]
    assert "trace" in both
    scores_only = http.get("/api/public/v2/scores", params={"name": "quality", "fields": "score"}).json()
    assert scores_only["data"] and all("trace" not in s for s in scores_only["data"])
    kit.check(scores_only, "GetScoresResponse")
    refused = http.get("/api/public/v2/scores", params={"userId": "bob", "fields": "score"})
    assert refused.status_code == 400 and "trace" in refused.json()["message"]


def test_observations_v2_cursor_pages_and_field_groups(client, send_spans):
    tid = kit.trace_id()
    root = kit.span(
        "root",
        trace=tid,
        start_ns=BASE_NS,
        duration_ns=5 * SECOND,
        attributes={
            "user.id": "v2-user",
            "langfuse.trace.tags": ["v2"],
            f"{A}.input": json.dumps({"q": 1}),
            f"{A}.metadata.long": "x" * 300,
            f"{A}.metadata.short": "s",
        },
    )
    children = [
        kit.span(f"child-{i}", trace=tid, parent=root["span_id"], start_ns=BASE_NS + (i + 1) * SECOND)
        for i in range(4)
    ]
    send_spans([*children, root])
    first = client.get("/api/public/v2/observations", params={"traceId": tid, "limit": 2}).json()
    kit.check(first, "ObservationsV2Response", "")
    assert [o["name"] for o in first["data"]] == ["child-3", "child-2"]  # newest start first
    assert set(first["data"][0]) == {
        *("id", "traceId", "startTime", "endTime", "projectId", "parentObservationId", "type", "name"),
        *("level", "statusMessage", "version", "environment", "bookmarked", "public", "userId"),
        *("sessionId", "isRootObservation", "modelId", "inputPrice", "outputPrice", "totalPrice"),
    }
    seen, cursor = [o["name"] for o in first["data"]], first["meta"]["cursor"]
    while cursor:
        page = client.get(
            "/api/public/v2/observations", params={"traceId": tid, "limit": 2, "cursor": cursor}
        )
        seen += [o["name"] for o in page.json()["data"]]
        cursor = page.json()["meta"].get("cursor")
    assert seen == ["child-3", "child-2", "child-1", "child-0", "root"]
    params = {"traceId": tid, "isRootObservation": "true", "fields": "io,metadata,metrics,trace_context"}
    (top,) = client.get("/api/public/v2/observations", params=params).json()["data"]
    assert top["input"] == '{"q": 1}' or top["input"] == '{"q":1}'  # the raw string, not parsed
    assert len(top["metadata"]["long"]) == 200 and top["metadata"]["short"] == "s"
    assert top["latency"] == 5.0 and top["tags"] == ["v2"] and "name" not in top
    expanded = client.get("/api/public/v2/observations", params={**params, "expandMetadata": "long"})
    assert len(expanded.json()["data"][0]["metadata"]["long"]) == 300
    assert client.get("/api/public/v2/observations", params={"parseIoAsJson": "true"}).status_code == 400
    assert client.get("/api/public/v2/observations", params={"cursor": "not-a-cursor"}).status_code == 400
    by_user = client.get("/api/public/v2/observations", params={"userId": "v2-user", "limit": 10}).json()
    assert len(by_user["data"]) == 5 and by_user["meta"] == {}


@pytest.mark.parametrize("path", ["/api/public/observations", "/api/public/v2/observations"])
def test_observation_type_and_level_are_checked(seeded, path):
    http, _ = seeded
    assert http.get(path, params={"type": "nope"}).status_code == 400
    assert http.get(path, params={"level": "LOUD"}).status_code == 400
    assert http.get(path, params={"type": "generation", "level": "ERROR"}).status_code == 200
