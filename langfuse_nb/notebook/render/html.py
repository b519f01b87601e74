"""Small pure HTML helpers; they live in ``langfuse_nb.views.html`` (shared with the server's pages)."""

from langfuse_nb.views.html import MAX_VALUE_CHARS, duration, esc, link, page, pretty, stylesheet, table, tag

__all__ = ["MAX_VALUE_CHARS", "duration", "esc", "link", "page", "pretty", "stylesheet", "table", "tag"]
