"""Decoding and mapping keep every row they produced before the per-span fast paths were added.

A corpus of requests exercising each rule the fast paths skip or short-cut (each model, user, session, tag,
public, version, release, environment, level, experiment, prompt, usage and metadata attribute, alone and
combined, on SDK and third-party scopes, as roots and as children, with resources that carry values) is
decoded and mapped; the rows, key order included, and the rejected spans must equal
``data/ingest_map_golden.json``, which the code of commit e61e1fe (before the fast paths) produced.

Regenerate only on a deliberate change of what is mapped:
``LANGFUSE_NB_WRITE_GOLDEN=1 python -m pytest tests/server/test_ingest_map_golden.py``.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

import pytest
import server_testkit as kit
import test_server_ingest_golden as ingest_golden
import test_server_read_golden as varied

from langfuse_nb.server.otlp import decode_request
from langfuse_nb.server.spans import map_groups

GOLDEN = Path(__file__).parent / "data" / "ingest_map_golden.json"
_START = 1_760_000_000_123_456_789
_SDK = {"name": "langfuse-sdk", "version": "3.11.2"}
_OTHER = {"name": "opentelemetry.instrumentation.openai"}
_META = "langfuse.observation.metadata"
_TRACE_META = "langfuse.trace.metadata"

# one attribute set per rule a fast path decides from the attribute names
_CASES: list[dict[str, Any]] = [
    {},
    *({"langfuse.observation.type": t} for t in ("span", "generation", "event", "agent", "tool")),
    *({"langfuse.observation.type": t} for t in ("GENERATION", "Chain", "bogus", "")),
    *(
        {"langfuse.observation.type": "generation", key: "m-" + key}
        for key in (
            "langfuse.observation.model.name",
            "gen_ai.response.model",
            "ai.model.id",
            "gen_ai.request.model",
            "llm.response.model",
            "llm.model_name",
            "model",
        )
    ),
    {"langfuse.observation.type": "generation", "langfuse.observation.model.name": "", "model": "later"},
    {"langfuse.observation.type": "generation", "model": ["a", "b"]},
    *(
        {key: "u-" + key}
        for key in (
            "langfuse.user.id",
            "langfuse.trace.user.id",
            f"{_META}.langfuse_user_id",
            f"{_TRACE_META}.langfuse_user_id",
            "ai.telemetry.metadata.userId",
        )
    ),
    {"langfuse.user.id": "", "langfuse.trace.user.id": "second"},
    {"langfuse.trace.user.id": 42},
    *(
        {key: "s-" + key}
        for key in (
            "langfuse.session.id",
            "langfuse.trace.session.id",
            "gen_ai.conversation.id",
            f"{_META}.langfuse_session_id",
            f"{_TRACE_META}.langfuse_session_id",
            "ai.telemetry.metadata.sessionId",
        )
    ),
    *(
        {key: value}
        for key in (
            "langfuse.trace.tags",
            "langfuse.tags",
            f"{_META}.langfuse_tags",
            f"{_TRACE_META}.langfuse_tags",
            "ai.telemetry.metadata.tags",
            "tag.tags",
        )
        for value in (["a", "b"], "a, b", '["x", 1]', "one", "[broken")
    ),
    {"langfuse.trace.tags": "", "tag.tags": ["later"]},
    *({key: value} for key in ("langfuse.trace.public", "langfuse.public") for value in (True, "true", "no")),
    {"langfuse.version": "v1"},
    {"langfuse.version": ""},
    {"langfuse.release": "r9"},
    *({key: "Langfuse-Staging"} for key in ("langfuse.environment", "deployment.environment.name")),
    {"deployment.environment": 3},
    {"langfuse.environment": "bad env!"},
    *({"langfuse.observation.level": value} for value in ("warn", "ERROR", "info", "nope", 1)),
    {"langfuse.observation.status_message": "why"},
    {"langfuse.experiment.id": "e1", "langfuse.experiment.name": "exp", "langfuse.experiment.item.id": "i"},
    {"langfuse.experiment.item.version": "7"},
    {"langfuse.internal.as_root": True},
    {"langfuse.internal.as_root": "true"},
    {"langfuse.internal.as_root": False},
    *(
        {
            "langfuse.observation.type": t,
            "langfuse.observation.prompt.name": "golden-prompt",
            "langfuse.observation.prompt.version": version,
        }
        for t in ("generation", "span", "tool")
        for version in (1, "2", "x", True)
    ),
    {"langfuse.observation.type": "generation", "langfuse.prompt.name": "p", "langfuse.prompt.version": 3},
    {
        "langfuse.observation.type": "generation",
        "langfuse.observation.completion_start_time": '"2024-01-01T00:00:00.5Z"',
        "langfuse.observation.model.parameters": '{"temperature": 0.2, "stop": ["x"], "flag": true}',
    },
    {"langfuse.observation.type": "generation", "langfuse.observation.completion_start_time": "nope"},
    {
        "langfuse.observation.type": "generation",
        "langfuse.observation.usage_details": '{"input": 5, "output": 7, "total": 12}',
        "langfuse.observation.cost_details": '{"total": 0.5}',
    },
    {"langfuse.observation.type": "embedding", "langfuse.observation.usage_details": "not json"},
    {"langfuse.observation.type": "span", "langfuse.observation.usage_details": '{"input": 1}'},
    {
        "langfuse.metadata": '{"shared": 1}',
        _META: '{"o": [1, 2]}',
        _TRACE_META: "[3, 4]",
        f"{_META}.k": '{"deep": true}',
        f"{_TRACE_META}.t": "plain",
        "langfuse.metadata.both": "5",
    },
    {f"{_META}.tools": '[{"name": "search"}]', "langfuse.observation.input": '{"q": 1}'},
    {f"{_META}.tools": '[{"name": "search"}]', "langfuse.observation.input": "plain text"},
    {
        "langfuse.trace.name": "tn",
        "langfuse.trace.input": '{"a": 1}',
        "langfuse.trace.output": "",
        "langfuse.trace.metadata.x": "1",
    },
    {"langfuse.trace.name": "", "langfuse.trace.input": ""},
    {"gen_ai.tool.name": "tool-x", "logfire.msg": "msg"},
    {"ai.operationId": "ai.generateText", "ai.telemetry.functionId": "fn"},
    {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 3},
    {"openinference.span.kind": "LLM", "llm.model_name": "m", "input.value": "in", "output.value": "out"},
    {"langfuse.observation.input": "x" * 3000, "langfuse.observation.output": {"not": "str"}},
    {"langfuse.observation.input": ["a", "b"], "custom.number": 1.5, "custom.flag": False},
]
_RESOURCES: list[dict[str, Any]] = [
    {"service.name": "golden"},
    {
        "service.name": "golden",
        "service.version": "1.2",
        "langfuse.release": "res-release",
        "deployment.environment.name": "prod",
        "langfuse.trace.metadata.team": "a",
        "langfuse.metadata": '{"res": true}',
    },
]


def _case_requests() -> list[bytes]:
    """Every case as a root and as a child, per scope and resource (one request each)."""
    bodies = []
    for resource_n, resource in enumerate(_RESOURCES):
        for scope_n, scope in enumerate((_SDK, _OTHER)):
            spans = []
            for case_n, attributes in enumerate(_CASES):
                trace = f"{resource_n + 1}{scope_n + 1}{case_n:04x}".ljust(32, "a")
                root = f"{case_n:04x}".ljust(16, "b")
                common = {"trace": trace, "attributes": attributes, "start_ns": _START + case_n}
                spans.append(kit.span("case-root", sid=root, **common))
                status = {"status_code": 2, "status_message": "failed"} if case_n % 5 == 0 else {}
                spans.append(kit.span("case-child", sid=root[::-1], parent=root, **common, **status))
            bodies.append(kit.protobuf_request(spans, resource=resource, scope=scope))
    return bodies


def _corpus() -> list[tuple[bytes, str]]:
    """The store golden's requests (without its 1,000-span trace, which repeats one shape) and the cases."""
    protobuf = [varied._small_traces(), *ingest_golden._third_party(), *_case_requests()]
    odd_protobuf, odd_json = ingest_golden._odd_sdk()
    return [
        *((body, "application/x-protobuf") for body in [*protobuf, odd_protobuf]),
        (odd_json, "application/json"),
    ]


def _rows(rows: list[dict[str, Any]], shapes: dict[tuple[str, ...], int]) -> list[list[Any]]:
    """Each row as [its key order's number in ``shapes``, its values]: key order is compared too."""
    return [[shapes.setdefault(tuple(row), len(shapes)), list(row.values())] for row in rows]


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):  # long inputs and outputs are stored compressed (values.pack_io)
        return {"hex": value.hex()}
    raise TypeError(type(value).__name__)


def _mapped() -> dict[str, Any]:
    shapes: dict[tuple[str, ...], int] = {}
    out: list[Any] = []
    for body, content_type in _corpus():
        rejected: list[str] = []
        try:
            groups = decode_request(body, content_type, rejected)
        except Exception as exc:  # noqa: BLE001 (the golden records which requests fail, and how)
            out.append({"error": f"{type(exc).__name__}: {exc}"})
            continue
        observations, traces = map_groups(groups)
        rows = {"observations": _rows(observations, shapes), "traces": _rows(traces, shapes)}
        out.append({"rejected": rejected, **rows})
    return {"shapes": list(shapes), "requests": out}


def test_mapped_rows_match_golden(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = itertools.count(1)
    monkeypatch.setattr(kit, "span_id", lambda: f"{next(counter):016x}")  # ids the golden can name
    # the standard json module: values beyond 64 bits (a prompt version of 2**70) must survive as they are
    mapped = json.loads(json.dumps(_mapped(), default=_plain))
    if os.environ.get("LANGFUSE_NB_WRITE_GOLDEN"):
        lines = [json.dumps(item) for item in [mapped["shapes"], *mapped["requests"]]]
        GOLDEN.write_text("[\n" + ",\n".join(lines) + "\n]\n")
        pytest.skip("golden written")
    shapes, *requests = json.loads(GOLDEN.read_text())
    assert mapped["shapes"] == shapes
    assert len(mapped["requests"]) == len(requests)
    for got, want in zip(mapped["requests"], requests, strict=True):
        assert got.get("error") == want.get("error")
        assert got.get("rejected") == want.get("rejected")
        for kind in ("observations", "traces"):
            assert len(got.get(kind, [])) == len(want.get(kind, []))
            for got_row, want_row in zip(got.get(kind, []), want.get(kind, []), strict=True):
                assert got_row == want_row, kind
