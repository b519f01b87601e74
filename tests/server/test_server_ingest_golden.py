"""The rows the write path stores stay exactly what they were before ingest was rewritten for speed.

A varied set of requests (SDK spans of every type, generations with usage, cost and models, prompt links,
third-party gen_ai / OpenInference / AI SDK spans with span events, metadata at every level, spans that
must be rejected, legacy ingestion events and scores) is run through the real ingest jobs into a fresh
database; every table is then compared, row by row, with ``data/ingest_golden.json``, which the code of
commit 6dea855 (before the rewrite) produced. Columns that hold the wall clock (``created_at``,
``updated_at``, ...) are left out; everything else must match byte for byte.

Regenerate only on a deliberate change of what is stored:
``LANGFUSE_NB_WRITE_GOLDEN=1 python -m pytest tests/server/test_server_ingest_golden.py``.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
import server_testkit as kit
import test_server_read_golden as varied
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from langfuse_nb.server.errors import BadRequest
from langfuse_nb.server.ingest_jobs import BatchJob, OtlpJob
from langfuse_nb.server.store.db import Database
from langfuse_nb.server.store.resources import BlobCache

GOLDEN = Path(__file__).parent / "data" / "ingest_golden.json"
_CLOCK_COLUMNS = {"created_at", "updated_at", "timestamp_now"}
# tables whose every row is written by the clock or by migrations alone
_SKIPPED_TABLES = {"meta", "sqlite_sequence", "sqlite_stat1"}
_PROTOBUF = "application/x-protobuf"
_START = varied.START_NS
_TP_TRACE = "7" * 32


def _third_party() -> list[bytes]:
    """Other instrumentations' spans, each under its own scope (the mapping depends on it)."""
    gen_ai = [
        kit.span(
            "chat gpt-4o",
            trace=_TP_TRACE,
            sid="71" * 8,
            start_ns=_START,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.system": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.response.model": "gpt-4o-2024-08-06",
                "gen_ai.request.temperature": 0.3,
                "gen_ai.request.max_tokens": 200,
                "gen_ai.usage.input_tokens": 31,
                "gen_ai.usage.output_tokens": 9,
                "gen_ai.prompt.0.role": "user",
                "gen_ai.prompt.0.content": "hello",
                "gen_ai.completion.0.role": "assistant",
                "gen_ai.completion.0.content": "hi there",
                "session.id": "tp-session",
                "user.id": "tp-user",
                "deployment.environment": "Langfuse-Prod",
                "custom.flag": True,
                "custom.list": [1, 2, 3],
            },
        ),
        kit.span(
            "tool call",
            trace=_TP_TRACE,
            sid="72" * 8,
            parent="71" * 8,
            start_ns=_START + 10,
            attributes={"gen_ai.tool.name": "search", "gen_ai.operation.name": "execute_tool"},
            status_code=2,
            status_message="tool failed",
        ),
        kit.span(
            "embed",
            trace=_TP_TRACE,
            sid="73" * 8,
            parent="71" * 8,
            start_ns=_START + 20,
            attributes={
                "gen_ai.operation.name": "embeddings",
                "gen_ai.request.model": "text-embedding-3-small",
                "gen_ai.usage.input_tokens": 12,
            },
        ),
    ]
    openinference = [
        kit.span(
            "llm",
            trace=_TP_TRACE,
            sid="74" * 8,
            parent="71" * 8,
            start_ns=_START + 30,
            attributes={
                "openinference.span.kind": "LLM",
                "llm.model_name": "gpt-4o-mini",
                "llm.invocation_parameters": '{"temperature": 0}',
                "llm.token_count.prompt": 5,
                "llm.token_count.completion": 6,
                "llm.token_count.total": 11,
                "input.value": '{"messages": [{"role": "user", "content": "q"}]}',
                "input.mime_type": "application/json",
                "output.value": "answer",
                "metadata": '{"run": 3}',
                "tag.tags": ["oi", "x"],
            },
        ),
        kit.span(
            "retrieve",
            trace=_TP_TRACE,
            sid="75" * 8,
            parent="74" * 8,
            start_ns=_START + 40,
            attributes={"openinference.span.kind": "RETRIEVER", "input.value": "query"},
        ),
    ]
    vercel = [
        kit.span(
            "ai.generateText.doGenerate",
            trace=_TP_TRACE,
            sid="76" * 8,
            parent="71" * 8,
            start_ns=_START + 50,
            attributes={
                "ai.operationId": "ai.generateText.doGenerate",
                "ai.telemetry.functionId": "fn",
                "ai.model.id": "gpt-4o",
                "ai.model.provider": "openai.chat",
                "ai.settings.temperature": 0.5,
                "ai.prompt.messages": '[{"role": "user", "content": "hey"}]',
                "ai.response.text": "yo",
                "ai.usage.promptTokens": 4,
                "ai.usage.completionTokens": 2,
                "ai.response.msToFirstChunk": 12.5,
                "ai.telemetry.metadata.userId": "vercel-user",
                "ai.telemetry.metadata.tags": ["v"],
            },
        ),
    ]
    with_events = kit.span("evented", trace=_TP_TRACE, sid="77" * 8, parent="71" * 8, start_ns=_START + 60)
    resource = {"service.name": "tp", "service.version": "9.9", "langfuse.trace.metadata.team": "a"}
    return [
        kit.protobuf_request(
            gen_ai, resource=resource, scope={"name": "opentelemetry.instrumentation.openai"}
        ),
        kit.protobuf_request(openinference, scope={"name": "openinference.instrumentation.openai"}),
        _with_events(kit.protobuf_request([*vercel, with_events], scope={"name": "ai"})),
    ]


def _with_events(body: bytes) -> bytes:
    """Span events on the last span: a chat message and an exception (third-party I/O and errors)."""
    request = ExportTraceServiceRequest.FromString(body)
    span = request.resource_spans[0].scope_spans[0].spans[-1]
    for offset, (name, attributes) in enumerate(
        (
            ("gen_ai.user.message", {"content": "from an event"}),
            ("exception", {"exception.message": "boom", "exception.type": "E"}),
        )
    ):
        event = span.events.add()
        event.name = name
        event.time_unix_nano = _START + 61 + offset
        event.attributes.extend(kit.key_values(attributes))
    return request.SerializeToString()


def _odd_sdk() -> list[bytes]:
    """SDK spans at the edges: trace updates from children, as_root, whole-object metadata, bad spans."""
    trace = "8" * 32
    spans = [
        kit.span(
            "child-first",
            trace=trace,
            sid="81" * 8,
            parent="80" * 8,
            start_ns=_START + 5,
            attributes={
                "langfuse.trace.name": "named-by-child",
                "langfuse.trace.metadata": '{"whole": {"a": 1}, "n": 2}',
                "langfuse.trace.user.id": "u-child",
                "langfuse.trace.tags": "a, b ,c",
                "langfuse.trace.public": "true",
                "langfuse.metadata": '["x", "y"]',
                "langfuse.observation.metadata": '{"o": true}',
                "langfuse.release": "r1",
            },
        ),
        kit.span(
            "root",
            trace=trace,
            sid="80" * 8,
            start_ns=_START,
            duration_ns=-5,  # ends before it starts: clamped
            attributes={
                "langfuse.observation.input": '{"q": 1}',
                "langfuse.observation.output": "y" * 500,
                "langfuse.trace.session.id": "s-odd",
                "langfuse.environment": "langfuse_Dev",
            },
        ),
        kit.span(
            "as-root",
            trace=trace,
            sid="82" * 8,
            parent="80" * 8,
            start_ns=_START + 7,
            attributes={"langfuse.internal.as_root": True, "langfuse.trace.input": "trace in"},
        ),
        kit.span("far-future", trace=trace, sid="83" * 8, start_ns=2**64 - 10**7),
        kit.span(
            "too-big",
            trace=trace,
            sid="84" * 8,
            start_ns=_START + 9,
            attributes={
                "langfuse.observation.type": "generation",
                "langfuse.observation.prompt.version": str(2**70),
            },
        ),
        kit.span("no-start", trace=trace, sid="85" * 8, start_ns=0, duration_ns=_START),
    ]
    bad_id = {**kit.span("short-id", trace=trace, sid="86" * 8, start_ns=_START), "span_id": "86" * 4}
    json_spans = [
        kit.span("json-root", trace="9" * 32, sid="91" * 8, start_ns=_START, attributes={"k": 1.5}),
        kit.span(
            "json-gen",
            trace="9" * 32,
            sid="92" * 8,
            parent="91" * 8,
            start_ns=_START + 1,
            attributes={
                "langfuse.observation.type": "generation",
                "langfuse.observation.model.name": "gpt-4o",
                "langfuse.observation.usage_details": '{"input": 100, "output": 50}',
            },
        ),
        kit.span("json-bad", trace="9" * 32, sid="93" * 8, start_ns=_START, attributes={"big": 2**63}),
    ]
    return [
        kit.protobuf_request([*spans, bad_id]),
        orjson.dumps(kit.json_request(json_spans)).replace(str(2**63).encode(), str(2**65).encode()),
    ]


def _requests() -> list[tuple[bytes, str]]:
    protobuf = [*varied._big_trace_requests(), varied._small_traces(), *_third_party()]
    odd = _odd_sdk()
    return [*((body, _PROTOBUF) for body in [*protobuf, odd[0]]), (odd[1], "application/json")]


def _orphan_scores() -> list[dict[str, Any]]:
    """Scores of observations not stored yet: their trace id is filled in when the span arrives."""
    stamp = "2024-02-01T10:00:00.000Z"
    return [
        {
            "id": f"score-{n}",
            "type": "score-create",
            "timestamp": stamp,
            "body": {"id": f"score-{n}", "observationId": observation, "name": "early", "value": n},
        }
        for n, observation in enumerate(["71" * 8, "80" * 8, "missing" * 2])
    ]


def _dump(db_path: Path) -> dict[str, list[Any]]:
    conn = sqlite3.connect(db_path)
    try:
        names = [
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            if row[0] not in _SKIPPED_TABLES
        ]
        tables: dict[str, list[Any]] = {}
        for name in names:
            cursor = conn.execute(f'SELECT * FROM "{name}"')
            columns = [d[0] for d in cursor.description]
            keep = [i for i, column in enumerate(columns) if column not in _CLOCK_COLUMNS]
            rows = [[_plain(row[i]) for i in keep] for row in cursor]
            rows.sort(key=lambda row: orjson.dumps(row))
            tables[name] = [[columns[i] for i in keep], *rows]
        return tables
    finally:
        conn.close()


def _plain(value: Any) -> Any:
    return {"hex": value.hex()} if isinstance(value, bytes) else value


def _stored(tmp_path: Path) -> dict[str, Any]:
    db = Database(tmp_path / "lf.db")
    blobs = BlobCache()
    answers: list[Any] = []
    with db.write() as conn:  # a prompt to link, as the read golden has one
        conn.execute(
            "INSERT INTO prompts (id, name, version, type, prompt, labels, tags, config, created_at,"
            " updated_at, created_by) VALUES ('p1', 'golden-prompt', 1, 'text', '\"hi\"', '[]', '[]',"
            " '{}', '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z', 'API')"
        )
    answers.append(BatchJob(_orphan_scores()).run(db, blobs))
    for body, content_type in _requests():
        try:
            answers.append(OtlpJob(body, content_type, None, 50_000_000).run(db, blobs))
        except BadRequest as exc:
            answers.append({"bad": str(exc)})
    answers.append(BatchJob(varied._legacy_batch()).run(db, blobs))
    db.close()
    return {"answers": answers, "tables": _dump(tmp_path / "lf.db")}


def test_stored_rows_match_golden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = itertools.count(1)
    monkeypatch.setattr(kit, "span_id", lambda: f"{next(counter):016x}")  # ids the golden can name
    stored = orjson.loads(orjson.dumps(_stored(tmp_path)))
    if os.environ.get("LANGFUSE_NB_WRITE_GOLDEN"):
        GOLDEN.write_bytes(orjson.dumps(stored, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
        pytest.skip("golden written")
    golden = orjson.loads(GOLDEN.read_bytes())
    assert stored["answers"] == golden["answers"]
    assert sorted(stored["tables"]) == sorted(golden["tables"])
    for name, rows in golden["tables"].items():
        assert stored["tables"][name][0] == rows[0], f"columns of {name}"
        assert len(stored["tables"][name]) == len(rows), f"row count of {name}"
        for got, want in zip(stored["tables"][name][1:], rows[1:], strict=True):
            assert got == want, f"a row of {name}"
