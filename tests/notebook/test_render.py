"""HTML renderers: golden strings (regenerate with LANGFUSE_NB_UPDATE_GOLDEN=1), escaping and speed."""

from __future__ import annotations

import time

import pytest

from langfuse_nb.notebook.records import ObservationRecord, sort_tree
from langfuse_nb.notebook.render import (
    render_diff,
    render_message,
    render_prompt_list,
    render_summary_line,
    render_trace,
    render_trace_list,
)

T = "0af7651916cd43dd8448eb211c80319c"


def rec(
    i: str, name: str, start_ms: float, end_ms: float | None, parent: str | None = None, **kw
) -> ObservationRecord:
    end = None if end_ms is None else int(end_ms * 1e6)
    return ObservationRecord(
        id=i * 16,
        trace_id=T,
        name=name,
        parent_id=parent and parent * 16,
        start_ns=int(start_ms * 1e6),
        end_ns=end,
        **kw,
    )


TRACE = [
    rec(
        "a",
        "answer question",
        0,
        120,
        type="agent",
        input="What is 6*7?",
        output={"answer": 42},
        metadata={"execution_count": 3},
        trace_name="notebook <demo>",
    ),
    rec("b", "retrieve", 5, 25, "a", type="retriever", output=["doc-1", "doc-2"]),
    rec(
        "c",
        "llm call",
        30,
        110,
        "a",
        type="generation",
        model="gpt-4o",
        usage={"input": 12, "output": 3},
        input=[{"role": "user", "content": "What is 6*7?"}],
        output="42",
    ),
    rec("d", "guard", 111, 111, "a", type="event", level="WARNING", status_message="slow <model>"),
    rec("e", "orphan child", 40, 50, "z", level="ERROR", status_message="ValueError: boom"),
]


def test_trace_view_golden(golden) -> None:
    golden("trace", render_trace(TRACE, url="http://127.0.0.1:3939/project/p/traces/" + T))


def test_trace_view_highlight_and_running(golden) -> None:
    records = [*TRACE[:2], rec("f", "still running", 60, None, "a")]
    golden("trace_running", render_trace(records, highlight="b" * 16, note="This is a note"))


def test_empty_trace_and_summary_lines(golden) -> None:
    assert "No observations recorded" in render_trace([])
    golden("summary", render_summary_line(TRACE, "http://x/t?a=1&b=2"))


def test_tree_order_and_orphans_are_roots() -> None:
    order = [(depth, r.name) for depth, r in sort_tree(TRACE)]
    assert order == [
        (0, "answer question"),
        (1, "retrieve"),
        (1, "llm call"),
        (1, "guard"),
        (0, "orphan child"),
    ]


def test_values_are_escaped() -> None:
    evil = rec(
        "a",
        "<script>alert(1)</script>",
        0,
        1,
        input="<img src=x onerror=alert(1)>",
        metadata={"<k>": '"quoted"'},
    )
    html = render_trace([evil])
    assert "<script>alert" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html


def test_trace_list_and_prompt_list_golden(golden) -> None:
    traces = [
        {
            "id": T,
            "timestamp": "2026-11-25T14:00:00.123Z",
            "name": "demo",
            "user_id": "u1",
            "session_id": "notebook-1",
            "tags": ["a", "b"],
            "latency": 0.25,
        },
        {"id": "1" * 32, "timestamp": None, "name": None, "tags": None, "latency": None},
    ]
    golden("trace_list", render_trace_list(traces))
    prompts = [
        {
            "name": "greeting",
            "type": "text",
            "versions": [1, 2, 3],
            "labels": ["production", "latest"],
            "tags": ["demo"],
            "last_updated": "2026-11-25T14:00:00Z",
        }
    ]
    golden("prompt_list", render_prompt_list(prompts))
    assert "No traces found" in render_trace_list([])
    assert "No prompts yet" in render_prompt_list([])


def test_diff_golden(golden) -> None:
    golden(
        "diff",
        render_diff(
            "Hello {{name}}\nBye\nsame", "Hello {{ name }}!\nsame\nnew line", "version 1", "version 2"
        ),
    )
    assert "identical" in render_diff("a", "a", "l", "r")


def test_message() -> None:
    assert 'class="lfnb-status"' in render_message("bad <json>", error=True)
    assert "bad &lt;json&gt;" in render_message("bad <json>", error=True)


@pytest.mark.parametrize("count", [100])
def test_render_100_observations_under_50ms(count: int) -> None:
    records = [
        rec("%x" % (i % 16), f"obs {i}", i, i + 5, None, input={"q": "x" * 200}, output="y" * 300)
        for i in range(count)
    ]
    for i, r in enumerate(records):  # unique ids, a three-level tree
        r.id = f"{i:016x}"
        r.parent_id = f"{i // 3:016x}" if i else None
    render_trace(records)  # warm-up (stylesheet read once)
    start = time.perf_counter()
    html = render_trace(records)
    assert time.perf_counter() - start < 0.05
    assert html.count("<details") == count


def test_scores_view_golden_and_dataframe(golden) -> None:
    from langfuse_nb.notebook.scores import ScoresTable

    rows = [
        {
            "timestamp": "2026-11-25T14:00:00Z",
            "name": "correct",
            "value": 1.0,
            "trace_id": T,
            "comment": "ok",
        },
        {
            "timestamp": "2026-11-25T14:00:01Z",
            "name": "correct",
            "value": 0.0,
            "trace_id": T,
            "comment": None,
        },
        {"timestamp": "2026-11-25T14:00:02Z", "name": "tone", "value": None, "string_value": "<polite>"},
    ]
    view = ScoresTable(rows)
    golden("scores", view._repr_html_())
    frame = view.to_dataframe()
    assert list(frame["name"]) == ["correct", "correct", "tone"]
    assert ScoresTable.from_dataframe(frame).rows[0]["comment"] == "ok"
    assert "No scores." in ScoresTable([])._repr_html_()


def test_links_are_made_only_for_web_urls() -> None:
    from langfuse_nb.notebook.render.html import link

    assert link("https://x.example/t/1", "open") == (
        '<a href="https://x.example/t/1" target="_blank" rel="noopener">open</a>'
    )
    assert link("javascript:alert(1)", "<open>") == "&lt;open&gt;"


def test_trace_view_tokens_cost_plural_microseconds_and_link_text() -> None:
    from langfuse_nb.notebook.records import ObservationRecord
    from langfuse_nb.views.html import ui_link_text

    gen = ObservationRecord(
        id="g1",
        trace_id="t" * 32,
        name="llm",
        type="generation",
        start_ns=1_000,
        end_ns=41_000,
        model="gpt-4o",
        usage={"input": 100, "output": 20, "total": 120},
        cost={"input": 0.001, "output": 0.0002},
    )
    html = render_trace([gen], url="http://127.0.0.1:3939/project/p/traces/" + "t" * 32)
    assert "1 observation ·" in html and "1 observations" not in html
    assert "40 µs" in html and "0.04 ms" not in html
    assert "gpt-4o · input 100 / output 20 / total 120 · $0.0012" in html  # per generation
    assert "120 tokens · $0.0012" in html  # per trace
    assert "open in local Langfuse UI" in html
    assert ui_link_text("https://cloud.langfuse.com/project/p/traces/x") == "open in Langfuse Cloud"
    assert ui_link_text("https://us.cloud.langfuse.com/x") == "open in Langfuse Cloud"
    assert ui_link_text("https://langfuse.example.org/x") == "open in Langfuse"


def test_trace_list_marks_errors_and_shows_cost_and_latency() -> None:
    rows = [
        {"id": "a" * 32, "name": "ok", "latency": 0.25, "total_cost": 0.0042, "has_error": False},
        {"id": "b" * 32, "name": "broke", "latency": -1, "total_cost": 0, "has_error": True},
    ]
    html = render_trace_list(rows)
    assert "<th>cost</th>" in html and ">$0.0042<" in html and ">250.0 ms<" in html
    broke = html.split("<tr>")[-1]
    assert "✕ ERROR" in broke and "lfnb-status" in broke and "ms" not in broke
