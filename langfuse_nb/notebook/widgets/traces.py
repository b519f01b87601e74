"""Recent traces from the server with filters; pick one to render it (recorder first, else the API)."""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from langfuse_nb.notebook import commands
from langfuse_nb.notebook.render import render_message, render_trace, render_trace_list
from langfuse_nb.notebook.widgets.prompts import set_options
from langfuse_nb.notebook.widgets.static import StaticMirror

FILTERS = ("name", "user_id", "session_id")


def _option(trace: dict[str, Any]) -> tuple[str, str]:
    when = str(trace.get("timestamp") or "")[:19].replace("T", " ")
    mark = "✕ " if trace.get("has_error") else ""
    return f"{mark}{when}  {trace.get('name') or '(unnamed)'}  {trace['id'][:8]}", trace["id"]


class TraceList(StaticMirror, W.VBox):
    """``TraceList(client, name=None, user_id=None, session_id=None, tags=None, limit=20)``."""

    def __init__(self, client: Any, limit: int = 20, tags: list[str] | None = None, **filters: str) -> None:
        super().__init__(layout=W.Layout(width="100%"))
        self.client, self.limit, self.tags = client, limit, tags
        self.filters = {
            key: W.Text(value=filters.get(key, ""), description=key, layout=W.Layout(width="240px"))
            for key in FILTERS
        }
        self.refresh_button = W.Button(description="Refresh", icon="refresh")
        self.table = W.HTML()
        self.pick = W.Dropdown(description="Trace", layout=W.Layout(width="520px"))
        self.open_button = W.Button(description="Open", button_style="primary")
        self.view = W.HTML()
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.open_button.on_click(lambda _b: self.show(self.pick.value))
        self.children = [
            W.HBox([*self.filters.values(), self.refresh_button]),
            self.table,
            W.HBox([self.pick, self.open_button]),
            self.view,
        ]
        self.refresh()

    def __repr__(self) -> str:
        return f"TraceList(traces={len(self.pick.options)})"

    def static_html(self) -> str:
        return self.table.value + self.view.value

    def _query(self) -> dict[str, Any]:
        query: dict[str, Any] = {
            key: box.value.strip() for key, box in self.filters.items() if box.value.strip()
        }
        return {**query, "tags": self.tags} if self.tags else query

    def refresh(self) -> None:
        try:
            traces = commands.list_traces(self.client, limit=self.limit, **self._query())
        except Exception as exc:  # noqa: BLE001 - shown in the widget
            self.table.value = render_message(f"cannot list traces: {exc}", error=True)
            return
        self.table.value = render_trace_list(traces)
        set_options(self.pick, [_option(t) for t in traces])
        self.sync_static()

    def show(self, trace_id: str | None) -> None:
        if not trace_id:
            self.view.value = render_message("No trace to open: the list is empty (try Refresh).")
            return
        try:
            records, _source = commands.trace_records(self.client, trace_id)
        except Exception as exc:  # noqa: BLE001 - shown in the widget
            self.view.value = render_message(commands.load_error(trace_id, exc), error=True)
            return
        self.view.value = render_trace(records, url=commands.trace_url(self.client, trace_id))
        self.sync_static()
