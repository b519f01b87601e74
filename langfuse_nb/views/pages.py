"""Standalone HTML documents: the server's read-only trace and dataset-run pages.

They take plain dicts shaped like the public API's JSON (camelCase keys) plus observation records, so any
caller that can produce those (the embedded server from its store) can draw them. No scripts: the pages
are served under a Content-Security-Policy that allows inline styles only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from importlib.resources import files
from typing import Any

from langfuse_nb.views.html import esc, pretty, stylesheet, table, tag
from langfuse_nb.views.records import ObservationRecord
from langfuse_nb.views.trace import trace_body

# a table cell shows this much of a value; the full text is one click away in the trace page
CELL_CHARS = 2_000

Record = Mapping[str, Any]


@cache
def _page_style() -> str:
    css = files("langfuse_nb.views").joinpath("page.css").read_text(encoding="utf-8")
    return "<style>" + css.strip() + "</style>"


def document(title: str, body: str) -> str:
    """A complete HTML document holding ``body`` (already HTML) in the views' root element."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · langfuse_nb</title>{stylesheet()}{_page_style()}</head>"
        f'<body><div class="lfnb lfnb-page">{body}</div></body></html>'
    )


def render_message_page(title: str, text: str) -> str:
    """A small page for 401/404 answers."""
    return document(title, tag("h1", esc(title)) + tag("p", esc(text), "lfnb-dim"))


def _chips(labels: Iterable[Any]) -> str:
    return "".join(tag("span", esc(label), "lfnb-label-chip") for label in labels)


def _facts(pairs: Sequence[tuple[str, str]]) -> str:
    """A two-column key/value table; values are HTML, empty ones are left out."""
    rows = "".join(f"<tr><th>{esc(key)}</th><td>{value}</td></tr>" for key, value in pairs if value)
    return f'<table class="lfnb-table lfnb-facts"><tbody>{rows}</tbody></table>'


def _code(value: Any) -> str:
    return f"<code>{esc(value)}</code>" if value not in (None, "") else ""


def _time(value: Any) -> str:
    return esc(str(value or "")[:23].replace("T", " "))


def _value(value: Any, limit: int = CELL_CHARS) -> str:
    """An input/output value as preformatted text, shortened for table cells."""
    if value is None:
        return ""
    text = pretty(value)
    if len(text) > limit:
        text = text[:limit] + f"\n... ({len(text) - limit} more characters)"
    return f'<pre class="lfnb-val">{esc(text)}</pre>'


def _expandable(title: str, value: Any) -> str:
    if value is None or value == {}:
        return ""
    return f'<details class="lfnb-io"><summary>{esc(title)}</summary>{_value(value, 20_000)}</details>'


def score_value(score: Record) -> str:
    """The display value: the label of categorical/boolean scores, the number otherwise."""
    if score.get("dataType") in ("CATEGORICAL", "BOOLEAN") and score.get("stringValue") is not None:
        return str(score["stringValue"])
    value = score.get("value")
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _scores_table(scores: Sequence[Record]) -> str:
    if not scores:
        return tag("div", "No scores.", "lfnb-dim")
    rows = [
        [
            esc(s.get("name") or ""),
            tag("td", esc(score_value(s)), "lfnb-num"),
            esc(s.get("dataType") or ""),
            esc(s.get("source") or ""),
            _code(s.get("observationId")) or tag("span", "trace", "lfnb-dim"),
            esc(s.get("comment") or ""),
        ]
        for s in scores
    ]
    return table(["name", "value", "type", "source", "target", "comment"], rows)


def render_trace_page(trace: Record, records: Iterable[ObservationRecord], scores: Sequence[Record]) -> str:
    """A trace: its attributes, input/output, the observation waterfall and its scores."""
    name = trace.get("name") or trace.get("id") or "trace"
    facts = _facts(
        [
            ("trace id", _code(trace.get("id"))),
            ("time (UTC)", _time(trace.get("timestamp"))),
            ("user", esc(trace.get("userId") or "")),
            ("session", esc(trace.get("sessionId") or "")),
            ("tags", _chips(trace.get("tags") or ())),
            ("environment", esc(trace.get("environment") or "")),
            ("release", esc(trace.get("release") or "")),
            ("version", esc(trace.get("version") or "")),
        ]
    )
    io = (
        _expandable("Input", trace.get("input"))
        + _expandable("Output", trace.get("output"))
        + _expandable("Metadata", trace.get("metadata"))
    )
    body = (
        tag("h1", esc(name))
        + facts
        + io
        + tag("h2", "Observations")
        + trace_body(records)
        + tag("h2", f"Scores ({len(scores)})")
        + _scores_table(scores)
    )
    return document(str(name), body)


def _numeric(score: Record) -> float | None:
    value = score.get("value")
    if score.get("dataType") in ("CATEGORICAL", "BOOLEAN") or isinstance(value, bool):
        return None
    return float(value) if isinstance(value, int | float) else None


def score_summary(scores: Iterable[Record]) -> list[tuple[str, int, str]]:
    """(name, count, summary) per score name: the mean of numbers, else counts per label."""
    by_name: dict[str, list[Record]] = {}
    for score in scores:
        by_name.setdefault(str(score.get("name") or ""), []).append(score)
    out = []
    for name in sorted(by_name):
        group = by_name[name]
        numbers = [n for n in (_numeric(s) for s in group) if n is not None]
        if numbers and len(numbers) == len(group):
            text = f"avg {sum(numbers) / len(numbers):.4g} · min {min(numbers):.4g} · max {max(numbers):.4g}"
        else:
            counts: dict[str, int] = {}
            for s in group:
                counts[score_value(s)] = counts.get(score_value(s), 0) + 1
            text = " · ".join(f"{label}: {n}" for label, n in sorted(counts.items()))
        out.append((name, len(group), text))
    return out


def _summary_table(scores: Sequence[Record]) -> str:
    rows = [[esc(name), tag("td", str(n), "lfnb-num"), esc(text)] for name, n, text in score_summary(scores)]
    if not rows:
        return tag("div", "No scores.", "lfnb-dim")
    return table(["name", "count", "summary"], rows)


def _item_scores(scores: Sequence[Record]) -> str:
    return "<br>".join(f"{esc(s.get('name') or '')}: {esc(score_value(s))}" for s in scores)


def render_dataset_run_page(
    run: Record,
    items: Sequence[Record],
    *,
    trace_href: Callable[[str], str],
    run_scores: Sequence[Record] = (),
) -> str:
    """A dataset run: one row per run item, then the run's scores summarised by name.

    ``items`` hold ``datasetItemId``, ``input``, ``expectedOutput``, ``traceId``, ``output`` (the trace's) and
    ``scores`` (the trace's); ``run_scores`` are scores on the run itself; ``trace_href`` maps a trace id to
    the (already URL-safe) link of its page.
    """
    facts = _facts(
        [
            ("dataset", esc(run.get("datasetName") or "")),
            ("run id", _code(run.get("id"))),
            ("description", esc(run.get("description") or "")),
            ("created (UTC)", _time(run.get("createdAt"))),
            ("items", str(len(items))),
        ]
    )
    rows = [
        [
            _code(item.get("datasetItemId")),
            _value(item.get("input")),
            _value(item.get("expectedOutput")),
            _value(item.get("output")),
            _item_scores(item.get("scores") or ()),
            tag("a", _code(item.get("traceId")), href=trace_href(str(item.get("traceId")))),
        ]
        for item in items
    ]
    columns = ["dataset item", "input", "expected output", "output", "scores", "trace"]
    item_table = table(columns, rows) if rows else tag("div", "This run has no items.", "lfnb-dim")
    item_scores = [s for item in items for s in item.get("scores") or ()]
    body = (
        tag("h1", esc(run.get("name") or run.get("id") or "dataset run"))
        + facts
        + tag("h2", "Scores")
        + _summary_table([*item_scores, *run_scores])
        + tag("h2", f"Items ({len(items)})")
        + item_table
    )
    return document(f"{run.get('name') or 'dataset run'}", body)
