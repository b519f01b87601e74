"""Standalone HTML documents: the server's read-only pages (trace and session lists, one trace, one
session, a dataset run).

They take plain dicts shaped like the public API's JSON (camelCase keys) plus observation records, so any
caller that can produce those (the embedded server from its store) can draw them. No scripts: the pages
are served under a Content-Security-Policy that allows inline styles only; filters are plain GET forms.

Links between pages are relative, so they survive a reverse proxy's path prefix: ``nav["base"]`` is the
href of the project root (``/project/{projectId}/``) as seen from the page being drawn, e.g. ``"../"``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from importlib.resources import files
from typing import Any
from urllib.parse import quote, urlencode

from langfuse_nb.views.html import duration, esc, pretty, stylesheet, table, tag
from langfuse_nb.views.records import ObservationRecord
from langfuse_nb.views.trace import trace_body

# a table cell shows this much of a value; the full text is one click away in the trace page
CELL_CHARS = 2_000

Record = Mapping[str, Any]
# {"base": relative href of the project root, "version": server version, "current": "traces" | "sessions"}
Nav = Mapping[str, str]


@cache
def _page_style() -> str:
    css = files("langfuse_nb.views").joinpath("page.css").read_text(encoding="utf-8")
    return "<style>" + css.strip() + "</style>"


def _header(nav: Nav | None) -> str:
    """The shared header: links to the trace and session lists, and the server version."""
    if nav is None:
        return ""
    base = nav.get("base", "")
    links = "".join(
        tag("a", esc(label), "lfnb-nav-on" if nav.get("current") == key else None, href=base + key)
        for key, label in (("traces", "Traces"), ("sessions", "Sessions"))
    )
    version = tag(
        "span", esc(f"server {nav.get('version')}" if nav.get("version") else ""), "lfnb-dim lfnb-nav-ver"
    )
    return f'<nav class="lfnb-nav">{tag("strong", "langfuse_nb")}{links}{version}</nav>'


def trace_href(base: str, trace_id: Any) -> str:
    return f"{base}traces/{quote(str(trace_id), safe='')}"


def session_href(base: str, session_id: Any) -> str:
    return f"{base}sessions/{quote(str(session_id), safe='')}"


def user_href(base: str, user_id: Any) -> str:
    return f"{base}traces?{urlencode({'userId': str(user_id)})}"


def document(title: str, body: str, nav: Nav | None = None) -> str:
    """A complete HTML document holding ``body`` (already HTML) in the views' root element."""
    body = _header(nav) + body
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


def _user_link(base: str | None, user_id: Any) -> str:
    if not user_id:
        return ""
    return esc(user_id) if base is None else tag("a", esc(user_id), href=user_href(base, user_id))


def _session_link(base: str | None, session_id: Any) -> str:
    if not session_id:
        return ""
    return esc(session_id) if base is None else tag("a", esc(session_id), href=session_href(base, session_id))


def render_trace_page(
    trace: Record, records: Iterable[ObservationRecord], scores: Sequence[Record], nav: Nav | None = None
) -> str:
    """A trace: its attributes, input/output, the observation waterfall and its scores."""
    name = trace.get("name") or trace.get("id") or "trace"
    base = None if nav is None else nav.get("base", "")
    facts = _facts(
        [
            ("trace id", _code(trace.get("id"))),
            ("time (UTC)", _time(trace.get("timestamp"))),
            ("user", _user_link(base, trace.get("userId"))),
            ("session", _session_link(base, trace.get("sessionId"))),
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
    return document(str(name), body, nav)


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
    nav: Nav | None = None,
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
    return document(f"{run.get('name') or 'dataset run'}", body, nav)


# ---- lists -------------------------------------------------------------------------------------------------


def _seconds(value: Any) -> str:
    if not isinstance(value, int | float) or value < 0:
        return ""
    return duration(round(value * 1e9))  # the store keeps microseconds: 40 µs, not "0 ms"


def _cost(value: Any) -> str:
    if not isinstance(value, int | float) or value <= 0:
        return ""
    return f"${value:.6g}"


def _count(values: Any) -> str:
    return tag("td", str(len(values) if isinstance(values, list | tuple) else 0), "lfnb-num")


def _pager(meta: Record, query: Mapping[str, str]) -> str:
    """``« prev · page n of m (k items) · next »``; the links keep the filters (``query``)."""
    page, pages = int(meta.get("page") or 1), int(meta.get("totalPages") or 0)
    total = int(meta.get("totalItems") or 0)

    def href(number: int) -> str:
        return "?" + urlencode({**query, "page": str(number)})

    prev = (
        tag("a", "« prev", href=href(page - 1), rel="prev") if page > 1 else tag("span", "« prev", "lfnb-dim")
    )
    nxt = (
        tag("a", "next »", href=href(page + 1), rel="next")
        if page < pages
        else tag("span", "next »", "lfnb-dim")
    )
    text = tag("span", esc(f"page {page} of {max(pages, 1)} ({total} items)"), "lfnb-dim")
    return f'<div class="lfnb-pager">{prev}{text}{nxt}</div>'


TRACE_FILTERS = (
    ("name", "name"),
    ("userId", "user id"),
    ("sessionId", "session id"),
    ("tags", "tags (comma-separated, all of)"),
    ("environment", "environment (comma-separated)"),
)


def _filter_form(filters: Mapping[str, str]) -> str:
    """A plain GET form; submitting it starts again at page 1."""
    fields = "".join(
        "<label>"
        + tag("span", esc(label), "lfnb-dim")
        + f'<input type="text" name="{esc(key)}" value="{esc(filters.get(key) or "")}">'
        + "</label>"
        for key, label in TRACE_FILTERS
    )
    limit = filters.get("limit")
    hidden = f'<input type="hidden" name="limit" value="{esc(limit)}">' if limit else ""
    return (
        f'<form class="lfnb-filters" method="get">{fields}{hidden}'
        '<button type="submit">Filter</button><a href="?">clear</a></form>'
    )


def _trace_rows(traces: Sequence[Record], base: str, *, session_column: bool = True) -> list[list[str]]:
    rows = []
    for t in traces:
        name = t.get("name") or t.get("id")
        failed = tag("span", "ERROR", "lfnb-error-chip") + " " if t.get("errorCount") else ""
        row = [
            tag("td", _time(t.get("timestamp")), "lfnb-nowrap"),
            failed + tag("a", esc(name), href=trace_href(base, t.get("id"))),
            _user_link(base, t.get("userId")),
        ]
        if session_column:
            row.append(_session_link(base, t.get("sessionId")))
        row += [
            _chips(t.get("tags") or ()),
            tag("td", esc(_seconds(t.get("latency")) if t.get("observations") else ""), "lfnb-num"),
            tag("td", esc(_cost(t.get("totalCost"))), "lfnb-num"),
            _count(t.get("observations")),
            _count(t.get("scores")),
        ]
        rows.append(row)
    return rows


def _trace_table(traces: Sequence[Record], base: str, *, session_column: bool = True) -> str:
    columns = ["time (UTC)", "name", "user"] + (["session"] if session_column else [])
    columns += ["tags", "latency", "total cost", "observations", "scores"]
    return table(columns, _trace_rows(traces, base, session_column=session_column))


def render_trace_list_page(
    traces: Sequence[Record], meta: Record, filters: Mapping[str, str], nav: Nav
) -> str:
    """Traces newest first (list-API items with ``latency``, ``totalCost``, ``observations``, ``scores``,
    and ``errorCount`` when the caller counted ERROR observations: such rows are marked).

    ``filters`` are the query parameters as given (non-empty strings): the form shows them and the paging
    links keep them.
    """
    base = nav.get("base", "")
    active = {key: value for key, value in filters.items() if value}
    listing = (
        _trace_table(traces, base) if traces else tag("div", "No traces match these filters.", "lfnb-dim")
    )
    pager = _pager(meta, active)
    body = tag("h1", "Traces") + _filter_form(active) + pager + listing + pager
    return document("Traces", body, {**nav, "current": "traces"})


def render_session_list_page(
    sessions: Sequence[Record], meta: Record, nav: Nav, query: Mapping[str, str] | None = None
) -> str:
    """Sessions newest first (list-API items, plus ``traceCount`` when known)."""
    base = nav.get("base", "")
    rows = [
        [
            tag("a", _code(s.get("id")), href=session_href(base, s.get("id"))),
            tag("td", _time(s.get("createdAt")), "lfnb-nowrap"),
            esc(s.get("environment") or ""),
            tag("td", esc(s.get("traceCount", "")), "lfnb-num"),
        ]
        for s in sessions
    ]
    listing = (
        table(["session", "created (UTC)", "environment", "traces"], rows)
        if rows
        else tag("div", "No sessions yet: traces with a session id create them.", "lfnb-dim")
    )
    pager = _pager(meta, {k: v for k, v in (query or {}).items() if v})
    body = tag("h1", "Sessions") + pager + listing + pager
    return document("Sessions", body, {**nav, "current": "sessions"})


def render_session_page(session: Record, traces: Sequence[Record], meta: Record, nav: Nav) -> str:
    """A session: its traces in time order (list-API items), with paging for long sessions."""
    base = nav.get("base", "")
    facts = _facts(
        [
            ("session id", _code(session.get("id"))),
            ("created (UTC)", _time(session.get("createdAt"))),
            ("environment", esc(session.get("environment") or "")),
            ("traces", esc(meta.get("totalItems", len(traces)))),
        ]
    )
    listing = (
        _trace_table(traces, base, session_column=False)
        if traces
        else tag("div", "No traces on this page.", "lfnb-dim")
    )
    pager = _pager(meta, {}) if int(meta.get("totalPages") or 0) > 1 else ""
    body = (
        tag("h1", "Session " + esc(session.get("id") or "")) + facts + tag("h2", "Traces") + pager + listing
    )
    return document(f"Session {session.get('id') or ''}", body, {**nav, "current": "sessions"})
