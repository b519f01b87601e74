"""The read API answers byte for byte what it answered before the read path was rewritten for speed.

The golden is the old code itself (``views_before.py``, the view builders of commit 300f72b): a real server
stores a varied 1,000-observation trace (OTLP spans of every kind, legacy ingestion events, scores, linked
prompts, compressed inputs, several resources), and each read is compared with what the old builders
make of the same database file.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import server_testkit as kit
import views_before as before

from langfuse_nb.server.runner import ServerHandle, start_in_thread
from langfuse_nb.server.store import observations as store_observations
from langfuse_nb.server.store.resources import BlobCache

BIG = "0" * 24 + "b16b16b1"
SMALL = [f"{n:032x}" for n in range(1, 7)]
EMPTY = "e" * 32  # a trace with no observations (legacy trace-create only)
SESSION = "golden-session"
START_NS = 1_760_000_000_123_456_789

_KINDS = (
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
)
_INPUTS: tuple[Any, ...] = (
    '{"question": "why?"}',
    "plain text answer",
    "{not json",
    "42",
    "",
    "[1, 2, 3]",
    "x" * 400,  # long enough to be stored compressed
    '{"messages": [' + ", ".join(f'{{"role": "user", "content": "m{i}"}}' for i in range(40)) + "]}",
    "null",
    " leading space",
)
_USAGE = (
    None,
    '{"input": 12, "output": 30}',
    '{"input": 5, "output": 7, "total": 12, "input_cached_tokens": 2, "output_reasoning": 1}',
    '{"prompt_tokens": 3, "completion_tokens": 4}',
    "{}",
)
_COST = (None, '{"total": 0.0004}', '{"input": 0.001, "output": 0.002}', '{"input": 1e-9, "total": 5}')


def _attributes(i: int) -> dict[str, Any]:
    kind = _KINDS[i % len(_KINDS)]
    attrs: dict[str, Any] = {"langfuse.observation.type": kind}
    if i % 3:
        attrs["langfuse.observation.input"] = _INPUTS[i % len(_INPUTS)]
    if i % 4:
        attrs["langfuse.observation.output"] = _INPUTS[(i * 7) % len(_INPUTS)]
    if i % 5 == 0:
        attrs["langfuse.observation.metadata.step"] = i % 3
    if i % 11 == 0:
        attrs["langfuse.observation.metadata.detail"] = '{"nested": {"k": [1, 2]}}'
    if i % 13 == 0:
        attrs["langfuse.observation.level"] = ("ERROR", "WARNING", "DEBUG")[i % 3]
        attrs["langfuse.observation.status_message"] = f"status {i}"
    if i % 17 == 0:
        attrs["langfuse.version"] = f"v{i % 4}"
    if i % 19 == 0:
        attrs["langfuse.environment"] = "staging"
    if kind in ("generation", "embedding"):
        attrs["langfuse.observation.model.name"] = (
            "gpt-4o",
            "gpt-4o-mini",
            "my-own-model",
            "claude-3-haiku",
        )[i % 4]
        if i % 7:
            attrs["langfuse.observation.model.parameters"] = '{"temperature": 0.2, "max_tokens": 100}'
        usage, cost = _USAGE[(i // 10) % len(_USAGE)], _COST[(i // 10) % len(_COST)]
        if usage:
            attrs["langfuse.observation.usage_details"] = usage
        if cost:
            attrs["langfuse.observation.cost_details"] = cost
        if i % 2:
            attrs["langfuse.observation.completion_start_time"] = f'"2025-10-09T08:53:20.{i % 1000:03d}001Z"'
        if i % 9 == 0:
            attrs["langfuse.observation.prompt.name"] = "golden-prompt" if i % 18 else "no-such-prompt"
            attrs["langfuse.observation.prompt.version"] = 1
    if i % 23 == 0:
        attrs["langfuse.experiment.id"] = "exp-1"
        attrs["langfuse.experiment.item.id"] = f"item-{i}"
        attrs["langfuse.experiment.item.expected_output"] = '{"answer": 1}'
    return attrs


def _big_trace_requests() -> list[bytes]:
    """1,000 spans of one trace, sent in 4 requests under 4 different resources/scopes."""
    root = "ab" * 8
    spans = [
        kit.span("root", trace=BIG, sid=root, start_ns=START_NS, attributes={"langfuse.trace.name": "big"})
    ]
    for i in range(1, 1000):
        duration = (i * 7919) % 3_000_000_000 + (0 if i % 29 else -(10**6))  # some end before they start
        spans.append(
            kit.span(
                f"obs-{i % 37}",
                trace=BIG,
                sid=f"{i:016x}",
                parent=root if i % 6 else f"{i - 1:016x}",
                start_ns=START_NS + (i // 3) * 1_000_123,  # ties: ordered by id
                duration_ns=duration,
                attributes=_attributes(i),
                status_code=2 if i % 31 == 0 else 0,
                status_message="failed" if i % 31 == 0 else "",
            )
        )
    requests = []
    for part in range(4):
        resource = {**kit.RESOURCE, "service.name": f"svc-{part % 2}"}
        scope = {**kit.SDK_SCOPE, "version": f"3.11.{part % 3}"}
        requests.append(kit.protobuf_request(spans[part::4], resource=resource, scope=scope))
    return requests


def _legacy_batch() -> list[dict[str, Any]]:
    """Legacy events: a trace without observations, and odd observations in the big trace."""
    stamp = "2024-02-01T10:00:00Z"
    return [
        {
            "id": "t-empty",
            "type": "trace-create",
            "timestamp": stamp,
            "body": {"id": EMPTY, "name": "empty", "sessionId": SESSION, "metadata": {"a": [1, {"b": None}]}},
        },
        {
            "id": "g-legacy",
            "type": "generation-create",
            "timestamp": stamp,
            "body": {
                "id": "legacy-gen",
                "traceId": BIG,
                "name": "legacy",
                "model": "gpt-4o",
                "usage": {"input": 3, "output": 4, "unit": "TOKENS"},
                "costDetails": {"input": 0.5},
                "startTime": "2024-02-01T12:00:00+02:00",
                "completionStartTime": "2024-02-01T10:00:00.5Z",
                "endTime": "2024-02-01T10:00:03.25Z",
                "metadata": {"deep": {"list": [1, 2, {"x": "y"}]}},
                "input": {"a": 1},
                "output": ["x", 2],
            },
        },
        {
            "id": "e-legacy",
            "type": "event-create",
            "timestamp": stamp,
            "body": {
                "id": "legacy-event",
                "traceId": BIG,
                "name": "event",
                "startTime": "2023-12-31T23:59:59.999999Z",
            },
        },
        {
            "id": "s-legacy",
            "type": "span-create",
            "timestamp": stamp,
            "body": {
                "id": "legacy-open-span",
                "traceId": BIG,
                "name": "open",
                "startTime": stamp,
                "level": "ERROR",
            },
        },
    ]


def _scores() -> list[dict[str, Any]]:
    return [
        {"traceId": BIG, "name": "quality", "value": 0.5},
        {"traceId": BIG, "name": "label", "value": "good", "dataType": "CATEGORICAL", "comment": "c"},
        {"traceId": BIG, "observationId": f"{5:016x}", "name": "ok", "value": 1, "dataType": "BOOLEAN"},
        {"traceId": SMALL[0], "name": "quality", "value": 2, "metadata": {"m": 1}},
        {"traceId": SMALL[0], "name": "quality", "value": 3},
    ]


def _small_traces() -> bytes:
    spans = []
    for n, trace in enumerate(SMALL):
        root = f"{n + 1:02x}" * 8
        attributes = {
            "langfuse.trace.name": f"small-{n % 2}",
            "langfuse.trace.metadata.customer": f"c-{n}",
            "langfuse.trace.tags": ["golden", f"t{n % 3}"],
            "session.id": SESSION,
            "user.id": f"user-{n % 2}",
            "langfuse.trace.input": _INPUTS[n % len(_INPUTS)],
            "langfuse.observation.output": _INPUTS[(n + 3) % len(_INPUTS)],
        }
        spans.append(
            kit.span("root", trace=trace, sid=root, start_ns=START_NS - n * 10**9, attributes=attributes)
        )
        spans.append(
            kit.span(
                "child",
                trace=trace,
                parent=root,
                start_ns=START_NS - n * 10**9 + 500,
                attributes=_attributes(n + 1),
            )
        )
    return kit.protobuf_request(spans)


@pytest.fixture(scope="module")
def stocked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Path]]:
    db_path = tmp_path_factory.mktemp("golden") / "lf.db"
    handle: ServerHandle = start_in_thread(port=0, db_path=db_path)
    try:
        with httpx.Client(
            base_url=handle.url, auth=(handle.public_key, handle.secret_key), timeout=30
        ) as http:
            prompt = {"name": "golden-prompt", "type": "text", "prompt": "hi {{x}}", "labels": []}
            http.post("/api/public/v2/prompts", json=prompt).raise_for_status()
            protobuf = {"content-type": "application/x-protobuf"}
            for body in [*_big_trace_requests(), _small_traces()]:
                http.post("/api/public/otel/v1/traces", content=body, headers=protobuf).raise_for_status()
            events = http.post("/api/public/ingestion", json={"batch": _legacy_batch()}).json()
            assert events["errors"] == []
            for score in _scores():
                http.post("/api/public/scores", json=score).raise_for_status()
            yield http, db_path
    finally:
        handle.stop()


@pytest.fixture
def reader(stocked: tuple[httpx.Client, Path]) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{stocked[1]}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


def _same(response: httpx.Response, expected: Any) -> None:
    assert response.status_code == 200, response.text
    want = orjson.dumps(expected, default=str)
    assert response.content == want


def test_the_big_trace_is_what_the_old_code_returned(
    stocked: tuple[httpx.Client, Path], reader: sqlite3.Connection
) -> None:
    http, _ = stocked
    old = before.trace_detail(reader, BlobCache(), BIG)
    assert old is not None and len(old["observations"]) == 1003
    assert {o["type"] for o in old["observations"]} >= {k.upper() for k in _KINDS}  # every kind is covered
    assert any(o["promptId"] for o in old["observations"]) and any(
        o["timeToFirstToken"] for o in old["observations"]
    )
    _same(http.get(f"/api/public/traces/{BIG}"), old)
    for trace in [*SMALL, EMPTY]:
        _same(http.get(f"/api/public/traces/{trace}"), before.trace_detail(reader, BlobCache(), trace))


@pytest.mark.parametrize(
    "fields",
    [None, "core", "core,io", "core,scores,observations", "metrics", "core,io,scores,observations,metrics"],
)
def test_trace_list_pages_are_what_the_old_code_returned(
    stocked: tuple[httpx.Client, Path], reader: sqlite3.Connection, fields: str | None
) -> None:
    http, _ = stocked
    params = {"limit": 5, "page": 1, **({"fields": fields} if fields else {})}
    for page in (1, 2):
        params["page"] = page
        response = http.get("/api/public/traces", params=params)
        rows = before.records(
            reader.execute(
                "SELECT * FROM traces t ORDER BY t.timestamp DESC, t.id LIMIT 5 OFFSET ?", ((page - 1) * 5,)
            )
        )
        data = before._with_summaries(reader, rows, before._field_groups(fields), BlobCache())
        _same(response, {"data": data, "meta": response.json()["meta"]})


def test_observation_reads_are_what_the_old_code_returned(
    stocked: tuple[httpx.Client, Path], reader: sqlite3.Connection
) -> None:
    http, _ = stocked
    blobs = BlobCache()
    for page in (1, 2, 3):
        response = http.get("/api/public/observations", params={"traceId": BIG, "limit": 400, "page": page})
        rows = before.records(
            reader.execute(
                "SELECT * FROM observations o WHERE o.trace_id = ? "
                "ORDER BY o.start_time DESC, o.id LIMIT 400 OFFSET ?",
                (BIG, (page - 1) * 400),
            )
        )
        _same(
            response,
            {"data": [before.to_view(r, reader, blobs) for r in rows], "meta": response.json()["meta"]},
        )
    for (obs_id,) in itertools.islice(reader.execute("SELECT id FROM observations ORDER BY id"), 0, None, 97):
        row = reader.execute("SELECT * FROM observations WHERE id = ?", (obs_id,)).fetchone()
        _same(http.get(f"/api/public/observations/{obs_id}"), before.to_view(row, reader, blobs))


def test_session_traces_are_what_the_old_code_returned(
    stocked: tuple[httpx.Client, Path], reader: sqlite3.Connection
) -> None:
    http, _ = stocked
    response = http.get(f"/api/public/sessions/{SESSION}")
    rows = reader.execute("SELECT * FROM traces WHERE session_id = ? ORDER BY timestamp", (SESSION,))
    old = [before.trace_view(row, reader, BlobCache()) for row in rows]
    assert response.status_code == 200 and len(old) == 7
    assert response.content.endswith(b',"traces":' + orjson.dumps(old, default=str) + b"}")


_ODD_TIMES = (
    "2024-02-01T10:00:00.000000Z",
    "2024-02-01T10:00:00.999999Z",
    "1999-12-31T23:59:59.000001Z",
    "2024-02-29T00:00:00.500000Z",
    "2024-02-01T10:00:00Z",
    "2024-02-01T10:00:00.5Z",
    "2024-02-01T12:00:00.250000+02:00",
    "2024-02-01 10:00:00.000000Z",
    "0999-01-01T00:00:00.000000Z",
    "9999-12-31T23:59:59.999999Z",
)


@pytest.mark.parametrize(("start", "end"), list(itertools.product(_ODD_TIMES, repeat=2)))
def test_seconds_between_is_what_the_old_code_returned(start: str, end: str) -> None:
    assert repr(store_observations.seconds_between(start, end)) == repr(before.seconds_between(start, end))


def test_seconds_between_refuses_what_the_old_code_refused() -> None:
    for text in ("2024-13-01T10:00:00.000000Z", "2024-02-01T10:00:00.00000xZ", "2024-02-01T10:00:00.+00000Z"):
        with pytest.raises(ValueError):
            before.seconds_between(text, "2024-02-01T10:00:00.000000Z")
        with pytest.raises(ValueError):
            store_observations.seconds_between(text, "2024-02-01T10:00:00.000000Z")
