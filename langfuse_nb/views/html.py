"""Small pure HTML helpers shared by the renderers (every value is escaped here)."""

from __future__ import annotations

import json
from functools import cache
from html import escape
from importlib.resources import files
from typing import Any

MAX_VALUE_CHARS = 20_000


@cache
def stylesheet() -> str:
    """The one stylesheet, inlined into each view so exported HTML looks the same."""
    css = files("langfuse_nb.views").joinpath("style.css").read_text(encoding="utf-8")
    return "<style>" + css.strip() + "</style>"


def esc(value: Any) -> str:
    return escape(str(value), quote=True)


def tag(name: str, content: str, cls: str | None = None, **attrs: str) -> str:
    """``<name class=... attrs>content</name>``; ``content`` must already be HTML."""
    parts = [name]
    if cls:
        parts.append(f'class="{esc(cls)}"')
    parts.extend(f'{key.rstrip("_")}="{esc(val)}"' for key, val in attrs.items())
    return f"<{' '.join(parts)}>{content}</{name}>"


def pretty(value: Any) -> str:
    """Readable text of an input/output value: strings as they are, the rest as indented JSON."""
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False, default=str)
    if len(text) > MAX_VALUE_CHARS:
        text = text[:MAX_VALUE_CHARS] + f"\n... ({len(text) - MAX_VALUE_CHARS} more characters)"
    return text


def duration(ns: int | None) -> str:
    if ns is None:
        return "running"
    ms = ns / 1e6
    if ms < 1:  # the store keeps microseconds: 0.04 ms reads better as 40 µs
        return f"{ns / 1000:.0f} µs"
    if ms < 1000:
        return f"{ms:.1f} ms"
    return f"{ms / 1000:.2f} s"


def ui_link_text(url: str | None) -> str:
    """Where a trace link goes, in words: the local UI of the embedded server, or Langfuse Cloud."""
    from urllib.parse import urlsplit

    host = (urlsplit(url or "").hostname or "").lower()
    if host in ("127.0.0.1", "localhost", "::1", "0.0.0.0"):
        return "open in local Langfuse UI"
    if host.endswith("cloud.langfuse.com"):
        return "open in Langfuse Cloud"
    return "open in Langfuse"


def cost_text(value: Any) -> str:
    """``$0.00123`` for a positive cost in USD; empty when unknown or zero."""
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        return ""
    return f"${value:.6f}".rstrip("0").rstrip(".") if value < 0.01 else f"${value:.4f}"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def link(url: str | None, text: str) -> str:
    if not url:
        return ""
    if not url.lower().startswith(("http://", "https://")):  # javascript:/data: would run in the page
        return esc(text)
    return f'<a href="{esc(url)}" target="_blank" rel="noopener">{esc(text)}</a>'


def table(columns: list[str], rows: list[list[str]], cls: str = "lfnb-table") -> str:
    """A table; ``rows`` hold cell HTML (already escaped)."""
    head = "".join(f"<th>{esc(col)}</th>" for col in columns)
    body = "".join(
        "<tr>" + "".join(cell if cell.startswith("<td") else f"<td>{cell}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def page(content: str) -> str:
    """Wrap a view in the root element with the stylesheet."""
    return f'<div class="lfnb">{stylesheet()}{content}</div>'
