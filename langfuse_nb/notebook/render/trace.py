"""The trace waterfall; it lives in ``langfuse_nb.views.trace`` (shared with the server's trace page)."""

from langfuse_nb.views.trace import INDENT_PX, render_summary_line, render_trace, summary_text

__all__ = ["INDENT_PX", "render_summary_line", "render_trace", "summary_text"]
