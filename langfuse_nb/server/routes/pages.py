"""Read-only HTML pages at the UI paths the SDK links to (trace URLs, experiment run URLs).

The server has no web app; these two pages exist so a link printed by ``get_trace_url()`` or an experiment
result opens something useful. They are drawn by the shared pure views from the same dicts the public API
returns. Auth is handled by the middleware (a browser gets a Basic prompt).
"""

from __future__ import annotations

import sqlite3
from typing import Any
from urllib.parse import quote

from fastapi import Request
from starlette.responses import HTMLResponse

from langfuse_nb.server.config import PROJECT_ID
from langfuse_nb.server.http import blobs_of, db_of
from langfuse_nb.server.routes import Route
from langfuse_nb.server.routes.traces import trace_detail
from langfuse_nb.server.store import datasets, scores
from langfuse_nb.server.values import loads, parse_lenient
from langfuse_nb.views.pages import render_dataset_run_page, render_message_page, render_trace_page
from langfuse_nb.views.records import trace_records_from_api

# no scripts, no external resources, no framing: the pages are plain documents with inline CSS
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",  # pages show authenticated data
}


def html_page(content: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(content, status_code=status_code, headers=SECURITY_HEADERS)


def not_found(what: str) -> HTMLResponse:
    return html_page(render_message_page("Not found", f"{what} does not exist on this server."), 404)


def trace_page(request: Request, projectId: str, traceId: str) -> HTMLResponse:
    view = None
    if projectId == PROJECT_ID:
        view = trace_detail(db_of(request).reader, blobs_of(request), traceId)
    if view is None:
        return not_found(f"Trace {traceId}")
    return html_page(render_trace_page(view, trace_records_from_api(view), view["scores"]))


def _trace_href(trace_id: str) -> str:
    # relative to /project/{p}/datasets/{d}/runs/{r}, so the link survives a reverse proxy's path prefix
    return "../../../traces/" + quote(trace_id, safe="")


def _run_items(conn: sqlite3.Connection, run: dict[str, Any]) -> list[dict[str, Any]]:
    """Run items joined with their dataset item, the trace's output and the trace's scores."""
    rows, _ = datasets.run_items(conn, run)
    trace_ids = [r["trace_id"] for r in rows]
    by_trace: dict[str, list[dict[str, Any]]] = {}
    for score in scores.for_traces(conn, trace_ids):
        by_trace.setdefault(score["trace_id"], []).append(scores.to_view(score))
    items = []
    for row in rows:
        item = conn.execute(
            "SELECT input, expected_output FROM dataset_items WHERE id = ?", (row["dataset_item_id"],)
        ).fetchone()
        trace = conn.execute("SELECT output FROM traces WHERE id = ?", (row["trace_id"],)).fetchone()
        items.append(
            {
                "datasetItemId": row["dataset_item_id"],
                "traceId": row["trace_id"],
                "input": loads(item["input"]) if item else None,
                "expectedOutput": loads(item["expected_output"]) if item else None,
                "output": parse_lenient(trace["output"]) if trace else None,
                "scores": by_trace.get(row["trace_id"], []),
            }
        )
    return items


def dataset_run_page(request: Request, projectId: str, datasetId: str, runId: str) -> HTMLResponse:
    conn = db_of(request).reader
    run = datasets.run_by_id(conn, datasetId, runId) if projectId == PROJECT_ID else None
    if run is None:
        return not_found(f"Dataset run {runId}")
    run_scores = [
        scores.to_view(s)
        for s in conn.execute("SELECT * FROM scores WHERE dataset_run_id = ? ORDER BY timestamp", (runId,))
    ]
    page = render_dataset_run_page(
        datasets.run_view(run), _run_items(conn, run), trace_href=_trace_href, run_scores=run_scores
    )
    return html_page(page)


def other_page(rest: str) -> HTMLResponse:
    # any other UI link (or an id with a slash in it) is a page this server does not have: say so in HTML
    return not_found(f"The page /project/{rest}")


ROUTES = [
    Route("GET", "/project/{projectId}/traces/{traceId}", trace_page),
    Route("GET", "/project/{projectId}/datasets/{datasetId}/runs/{runId}", dataset_run_page),
    Route("GET", "/project/{rest:path}", other_page),
]
