"""Pure renderer of one trace: a tree of observations on a shared time axis (waterfall)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from langfuse_nb.views.html import cost_text, duration, esc, link, page, plural, pretty, tag, ui_link_text
from langfuse_nb.views.records import ObservationRecord, sort_tree

INDENT_PX = 14

# The rows below are written as f-strings: the same HTML that `tag` builds (class first, then style; every
# dynamic text escaped), without its per-call list and keyword handling, which cost more than the text
# for a 1,000-observation trace.


def _usage_text(usage: Mapping[str, Any] | None) -> str:
    if not usage:
        return ""
    return " / ".join(f"{key} {val}" for key, val in usage.items())


def _number(value: Any) -> bool:
    kind = type(value)
    return kind is int or kind is float or (isinstance(value, int | float) and kind is not bool)


def _total(details: Mapping[str, Any] | None) -> float:
    """The ``total`` entry of usage/cost details, else the sum of the numeric entries."""
    if not details:
        return 0
    total: Any = details.get("total")
    if _number(total):
        return total  # type: ignore[no-any-return]
    return sum(value for value in details.values() if _number(value))


def _extra(rec: ObservationRecord) -> str:
    parts = [rec.model or "", _usage_text(rec.usage), cost_text(_total(rec.cost))]
    text = " · ".join(p for p in parts if p)
    return f'<span class="lfnb-extra">{esc(text)}</span>' if text else ""


def trace_totals(records: Iterable[ObservationRecord]) -> str:
    """``1,234 tokens · $0.0021`` over the trace's observations; empty when nothing recorded them."""
    records = list(records)
    tokens = sum(_total(r.usage) for r in records)
    cost = sum(_total(r.cost) for r in records)
    parts = [f"{tokens:,.0f} tokens" if tokens else "", cost_text(cost)]
    return " · ".join(p for p in parts if p)


@functools.lru_cache(maxsize=64)
def _badge(kind: str) -> str:
    return f'<span class="{esc("lfnb-badge lfnb-t-" + kind.lower())}">{esc(kind.upper())}</span>'


def _label(depth: int, rec: ObservationRecord) -> str:
    badge = _badge(rec.type)
    name = f'<span class="lfnb-name">{esc(rec.name)}</span>'
    style = f"padding-left:{depth * INDENT_PX}px"
    return f'<span class="lfnb-label" style="{style}">{badge}{name}{_extra(rec)}</span>'


def _bar(rec: ObservationRecord, t0: int, total: int) -> str:
    end = rec.end_ns if rec.end_ns is not None else t0 + total
    left = (rec.start_ns - t0) / total * 100
    width = max(end - rec.start_ns, 0) / total * 100
    bar = f'<span class="lfnb-bar" style="left:{left:.1f}%;width:{width:.1f}%"></span>'
    return f'<span class="lfnb-track">{bar}</span>'


def _section(title: str, value: Any) -> str:
    if value is None or value == {}:
        return ""
    return f"<b>{esc(title)}</b><pre>{esc(_pretty(value))}</pre>"


# orjson writes indented JSON ~10x faster than json.dumps(indent=2), whose indenting encoder is pure Python.
# Its text is used only for values made of exact dict (string keys), list, tuple, str, int, bool, None and
# floats that repr() writes without an exponent: for those both write the same text (checked over every
# code point and millions of floats in tests/notebook/test_big_trace_render.py). Anything else (1e-05,
# NaN, subclasses, what json.dumps hands to ``default=str``, integers beyond 64 bits, which orjson refuses)
# takes `pretty` itself, so the text never changes.
_ORJSON_INDENT = (
    orjson.OPT_INDENT_2
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)
_MAX_PLAIN_DEPTH = 100


def _refuse(value: Any) -> Any:
    raise TypeError("not a plain JSON value")


def _plain_float(value: float) -> bool:
    """repr() writes it without an exponent (and it is finite): orjson writes the same digits."""
    return value == 0.0 or 1e-4 <= abs(value) < 1e16


_SCALARS = frozenset({str, int, bool, type(None)})
_STR = frozenset({str})


def _plain(value: Any, depth: int = 0) -> bool:
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is float:
        return _plain_float(value)
    if depth > _MAX_PLAIN_DEPTH:
        return False
    if kind is dict:
        if not _STR.issuperset(map(type, value)):
            return False
        items: Iterable[Any] = value.values()
    elif kind is list or kind is tuple:
        items = value
    else:
        return False
    if _SCALARS.issuperset(map(type, items)):  # the usual leaf container: checked without a Python loop
        return True
    return all(type(item) in _SCALARS or _plain(item, depth + 1) for item in items)


def _pretty(value: Any) -> str:
    """`pretty(value)`, faster for plain JSON values."""
    if isinstance(value, str) or not _plain(value):
        return pretty(value)
    try:
        text = orjson.dumps(value, option=_ORJSON_INDENT, default=_refuse).decode()
    except orjson.JSONEncodeError:  # an integer beyond 64 bits, or nesting deeper than orjson goes
        return pretty(value)
    return pretty(text)  # the same cut of long values


def _body(rec: ObservationRecord) -> str:
    status = f'<div class="lfnb-status">{esc(rec.status_message)}</div>' if rec.status_message else ""
    sections = (
        _section("Input", rec.input) + _section("Output", rec.output) + _section("Metadata", rec.metadata)
    )
    ids = f'<div class="lfnb-dim">id <code>{esc(rec.id)}</code></div>'
    return f'<div class="lfnb-body">{status}{sections}{ids}</div>'


@functools.lru_cache(maxsize=64)
def _row_class(level: str, running: bool, highlighted: bool) -> str:
    classes = "lfnb-obs lfnb-level-" + level.lower()
    if running:
        classes += " lfnb-running"
    if highlighted:
        classes += " lfnb-hl"
    return esc(classes)


def _row(depth: int, rec: ObservationRecord, t0: int, total: int, highlight: str | None) -> str:
    classes = _row_class(rec.level, rec.end_ns is None, rec.id == highlight)
    summary = (
        _label(depth, rec)
        + _bar(rec, t0, total)
        + f'<span class="lfnb-dur">{duration(rec.duration_ns)}</span>'
    )
    return f'<details class="{classes}"><summary>{summary}</summary>{_body(rec)}</details>'


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
