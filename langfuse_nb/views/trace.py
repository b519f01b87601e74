"""Pure renderer of one trace: a tree of observations on a shared time axis (waterfall)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from langfuse_nb.views.html import cost_text, duration, esc, link, page, plural, pretty, tag, ui_link_text
from langfuse_nb.views.records import ObservationRecord, sort_tree

INDENT_PX = 14


def _usage_text(usage: Mapping[str, Any] | None) -> str:
    if not usage:
        return ""
    return " / ".join(f"{key} {val}" for key, val in usage.items())


def _total(details: Mapping[str, Any] | None) -> float:
    """The ``total`` entry of usage/cost details, else the sum of the numeric entries."""
    if not details:
        return 0
    numbers = {k: v for k, v in details.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    return numbers["total"] if "total" in numbers else sum(numbers.values())


def _extra(rec: ObservationRecord) -> str:
    parts = [rec.model or "", _usage_text(rec.usage), cost_text(_total(rec.cost))]
    text = " · ".join(p for p in parts if p)
    return tag("span", esc(text), "lfnb-extra") if text else ""


def trace_totals(records: Iterable[ObservationRecord]) -> str:
    """``1,234 tokens · $0.0021`` over the trace's observations; empty when nothing recorded them."""
    records = list(records)
    tokens = sum(_total(r.usage) for r in records)
    cost = sum(_total(r.cost) for r in records)
    parts = [f"{tokens:,.0f} tokens" if tokens else "", cost_text(cost)]
    return " · ".join(p for p in parts if p)


def _label(depth: int, rec: ObservationRecord) -> str:
    badge = tag("span", esc(rec.type.upper()), f"lfnb-badge lfnb-t-{rec.type.lower()}")
    name = tag("span", esc(rec.name), "lfnb-name")
    return tag("span", badge + name + _extra(rec), "lfnb-label", style=f"padding-left:{depth * INDENT_PX}px")


def _bar(rec: ObservationRecord, t0: int, total: int) -> str:
    end = rec.end_ns if rec.end_ns is not None else t0 + total
    left = (rec.start_ns - t0) / total * 100
    width = max(end - rec.start_ns, 0) / total * 100
    return tag(
        "span", tag("span", "", "lfnb-bar", style=f"left:{left:.1f}%;width:{width:.1f}%"), "lfnb-track"
    )


def _section(title: str, value: Any) -> str:
    if value is None or value == {}:
        return ""
    return f"<b>{esc(title)}</b><pre>{esc(pretty(value))}</pre>"


def _body(rec: ObservationRecord) -> str:
    status = tag("div", esc(rec.status_message), "lfnb-status") if rec.status_message else ""
    ids = tag("div", f"id <code>{esc(rec.id)}</code>", "lfnb-dim")
    sections = [
        _section("Input", rec.input),
        _section("Output", rec.output),
        _section("Metadata", rec.metadata),
    ]
    return tag("div", status + "".join(sections) + ids, "lfnb-body")


def _row(depth: int, rec: ObservationRecord, t0: int, total: int, highlight: str | None) -> str:
    classes = ["lfnb-obs", f"lfnb-level-{rec.level.lower()}"]
    if rec.end_ns is None:
        classes.append("lfnb-running")
    if rec.id == highlight:
        classes.append("lfnb-hl")
    summary = _label(depth, rec) + _bar(rec, t0, total) + tag("span", duration(rec.duration_ns), "lfnb-dur")
    return tag("details", tag("summary", summary) + _body(rec), " ".join(classes))


def _axis(records: list[ObservationRecord]) -> tuple[int, int]:
    t0 = min(r.start_ns for r in records)
    t1 = max(r.end_ns if r.end_ns is not None else r.start_ns for r in records)
    return t0, max(t1 - t0, 1)


def _title(records: list[ObservationRecord], ordered: list[tuple[int, ObservationRecord]]) -> str:
    root = ordered[0][1]
    return next((r.trace_name for r in records if r.trace_name), None) or root.name


def render_trace(
    records: Iterable[ObservationRecord],
    *,
    url: str | None = None,
    highlight: str | None = None,
    note: str | None = None,
) -> str:
    """HTML of a trace; ``highlight`` marks one observation id, ``note`` adds a line under the header."""
    return page(trace_body(records, url=url, highlight=highlight, note=note))


def trace_body(
    records: Iterable[ObservationRecord],
    *,
    url: str | None = None,
    highlight: str | None = None,
    note: str | None = None,
) -> str:
    """The waterfall without the stylesheet wrapper, for pages that compose several views."""
    records = list(records)
    if not records:
        return tag("div", esc(note or "No observations recorded for this trace."), "lfnb-dim")
    ordered = sort_tree(records)
    t0, total = _axis(records)
    totals = trace_totals(records)
    summary = (
        f"trace <code>{esc(records[0].trace_id)}</code> · {plural(len(records), 'observation')}"
        f" · {duration(total)}" + (f" · {esc(totals)}" if totals else "")
    )
    head = tag("span", esc(_title(records, ordered)), "lfnb-title") + " " + tag("span", summary, "lfnb-dim")
    if url:
        head += " · " + link(url, ui_link_text(url))
    if note:
        head += tag("div", esc(note), "lfnb-dim")
    rows = "".join(_row(depth, rec, t0, total, highlight) for depth, rec in ordered)
    return tag("div", head, "lfnb-head") + tag("div", rows, "lfnb-rows")


def summary_text(records: list[ObservationRecord]) -> str:
    """Plain one-line summary (the ``text/plain`` twin of the views)."""
    if not records:
        return "trace sent (no spans recorded in this kernel)"
    ordered = sort_tree(records)
    root = ordered[0][1]
    state = "ERROR" if any(r.level == "ERROR" for r in records) else "ok"
    totals = trace_totals(records)
    return (
        f"{_title(records, ordered)} · {state} · {plural(len(records), 'observation')}"
        f" · {duration(root.duration_ns)}" + (f" · {totals}" if totals else "") + f" · trace {root.trace_id}"
    )


def render_summary_line(records: list[ObservationRecord], url: str | None) -> str:
    """One line for display=link: name, status, size, duration, trace id, and a link."""
    return page(
        tag("span", esc(summary_text(records))) + (" · " + link(url, ui_link_text(url)) if url else "")
    )
