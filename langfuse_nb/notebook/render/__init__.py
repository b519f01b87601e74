"""Pure HTML renderers (escaped, deterministic, golden-tested): no IPython, no network."""

from langfuse_nb.notebook.render.diff import render_diff
from langfuse_nb.notebook.render.tables import render_message, render_prompt_list, render_trace_list
from langfuse_nb.notebook.render.trace import render_summary_line, render_trace

__all__ = [
    "render_diff",
    "render_message",
    "render_prompt_list",
    "render_summary_line",
    "render_trace",
    "render_trace_list",
]
