"""Pure renderers of lists: recent traces, prompts, label chips."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from langfuse_nb.views.html import cost_text, duration, esc, page, table, tag


def chips(labels: Iterable[str]) -> str:
    return "".join(tag("span", esc(label), "lfnb-label-chip") for label in labels)


def _latency(seconds: Any) -> str:
    if not isinstance(seconds, int | float) or seconds < 0:  # -1: the server did not compute it
        return ""
    return duration(int(seconds * 1e9))


def _trace_name(trace: Mapping[str, Any]) -> str:
    name = esc(trace.get("name") or "")
    if trace.get("has_error"):
        return tag("span", "✕ ERROR", "lfnb-status") + " " + name
    return name


def render_trace_list(traces: Sequence[Mapping[str, Any]], *, title: str = "Recent traces") -> str:
    """Rows are plain dicts with id, timestamp, name, user_id, session_id, tags, latency (seconds),
    total_cost and has_error (both optional: shown when the server gives them)."""
    if not traces:
        return page(tag("div", "No traces found.", "lfnb-dim"))
    rows = [
        [
            esc(str(t.get("timestamp") or "")[:19].replace("T", " ")),
            _trace_name(t),
            f"<code>{esc(t.get('id'))}</code>",
            esc(t.get("user_id") or ""),
            esc(t.get("session_id") or ""),
            chips(t.get("tags") or ()),
            tag("td", _latency(t.get("latency")), "lfnb-num"),
            tag("td", esc(cost_text(t.get("total_cost", t.get("totalCost")))), "lfnb-num"),
        ]
        for t in traces
    ]
    columns = ["time (UTC)", "name", "trace id", "user", "session", "tags", "latency", "cost"]
    return page(tag("div", esc(title), "lfnb-title") + table(columns, rows))


def _plain(value: Any) -> Any:
    """An enum's value (the API models use enums, e.g. PromptType.TEXT -> "text")."""
    return getattr(value, "value", value)


def _time(value: Any) -> str:
    return str(value or "")[:19].replace("T", " ")


def render_prompt_list(prompts: Sequence[Mapping[str, Any]]) -> str:
    """Rows are plain dicts with name, type, versions (list[int]), labels, tags, last_updated_at."""
    if not prompts:
        return page(tag("div", "No prompts yet: create one with langfuse.create_prompt(...).", "lfnb-dim"))
    rows = [
        [
            esc(p.get("name")),
            esc(_plain(p.get("type")) or ""),
            tag("td", esc(max(p.get("versions") or [0]) or ""), "lfnb-num"),
            _labels(p),
            chips(p.get("tags") or ()),
            esc(_time(p.get("last_updated_at") or p.get("last_updated"))),
        ]
        for p in prompts
    ]
    columns = ["name", "type", "latest version", "labels", "tags", "updated (UTC)"]
    return page(tag("div", "Prompts", "lfnb-title") + table(columns, rows))


def _labels(prompt: Mapping[str, Any]) -> str:
    """Labels per version (``v2 staging latest · v1 production``) when known, else the flat list."""
    by_version = prompt.get("version_labels")
    if not by_version:
        return chips(prompt.get("labels") or ())
    return " ".join(
        tag("span", esc(f"v{number}"), "lfnb-dim") + " " + chips(by_version[number])
        for number in sorted(by_version, reverse=True)
    )


def render_message(text: str, *, error: bool = False) -> str:
    return page(tag("div", esc(text), "lfnb-status" if error else "lfnb-dim"))
