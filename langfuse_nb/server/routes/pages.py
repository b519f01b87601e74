"""Read-only HTML pages at the UI paths the SDK links to, plus the lists a user expects around them.

The server has no web app; these pages exist so a link printed by ``get_trace_url()`` or an experiment
result opens something useful, and one can browse from there: the trace list (with GET-form filters), the
session list, a session's traces. They are drawn by the shared pure views from the same dicts the public
API returns, fetched by the same query functions as the API routes. Auth is handled by the middleware (a
browser gets a Basic prompt). Links between pages are relative so they survive a proxy's path prefix.
"""

from __future__ import annotations

import sqlite3
from typing import Any
from urllib.parse import quote

from fastapi import Request
from starlette.responses import HTMLResponse, RedirectResponse

from langfuse_nb.server.config import PROJECT_ID, SERVER_VERSION
from langfuse_nb.server.http import blobs_of, db_of
from langfuse_nb.server.routes import Route
from langfuse_nb.server.routes.sessions import query_sessions
from langfuse_nb.server.routes.traces import query_traces, trace_detail
from langfuse_nb.server.store import datasets, scores, sessions
from langfuse_nb.server.values import loads, parse_lenient
from langfuse_nb.views.pages import (
    TRACE_FILTERS,
    render_dataset_run_page,
    render_message_page,
    render_session_list_page,
    render_session_page,
    render_trace_list_page,
    render_trace_page,
)
from langfuse_nb.views.records import trace_records_from_api

# no scripts, no external resources, no framing: the pages are plain documents with inline CSS; the list
# filters are GET forms submitted to the page itself
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# list pages: rows per page unless ?limit= says otherwise (capped: a page is for reading)
PAGE_LIMIT = 50
MAX_PAGE_LIMIT = 500
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


def _nav(base: str) -> dict[str, str]:
    """The header's links, ``base`` being the project root relative to the page (``""``, ``"../"``...)."""
    return {"base": base, "version": SERVER_VERSION}


def _number(text: str | None, default: int, highest: int) -> int:
    """A page/limit query parameter, forgiving: a typo in the address bar shows page 1, not an error."""
    try:
        value = int(text or "")
    except ValueError:
        return default
    return min(max(value, 1), highest)


def _paging(request: Request) -> tuple[int, int]:
    params = request.query_params
    return _number(params.get("page"), 1, 1_000_000), _number(params.get("limit"), PAGE_LIMIT, MAX_PAGE_LIMIT)


def _split(text: str) -> list[str] | None:
    parts = [part.strip() for part in text.split(",") if part.strip()]
    return parts or None


def trace_list_page(request: Request, projectId: str) -> HTMLResponse:
    if projectId != PROJECT_ID:
        return not_found(f"Project {projectId}")
    params = request.query_params
    filters = {key: params.get(key, "").strip() for key, _ in TRACE_FILTERS}
    page, limit = _paging(request)
    result = query_traces(
        db_of(request).reader,
        blobs_of(request),
        page=page,
        limit=limit,
        name=filters["name"] or None,
        userId=filters["userId"] or None,
        sessionId=filters["sessionId"] or None,
        tags=_split(filters["tags"]),
        environment=_split(filters["environment"]),
        fields="core,scores,observations,metrics",  # no input/output: the list does not show them
    )
    if "limit" in params:
        filters["limit"] = str(limit)
    rows = _with_error_counts(db_of(request).reader, result["data"])
    return html_page(render_trace_list_page(rows, result["meta"], filters, _nav("")))


def _with_error_counts(conn: sqlite3.Connection, traces: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``errorCount`` (ERROR observations) to each trace of a page, so failed traces stand out."""
    ids = [t["id"] for t in traces]
    if not ids:
        return traces
    marks = ", ".join("?" * len(ids))
    sql = (
        f"SELECT trace_id, count(*) FROM observations WHERE trace_id IN ({marks}) AND level = 'ERROR' "
        "GROUP BY trace_id"
    )
    counts = dict(conn.execute(sql, ids).fetchall())
    return [{**t, "errorCount": counts.get(t["id"], 0)} for t in traces]


def session_list_page(request: Request, projectId: str) -> HTMLResponse:
    if projectId != PROJECT_ID:
        return not_found(f"Project {projectId}")
    page, limit = _paging(request)
    conn = db_of(request).reader
    result = query_sessions(conn, page=page, limit=limit)
    ids = [s["id"] for s in result["data"]]
    counts: dict[str, int] = {}
    if ids:
        marks = ", ".join("?" * len(ids))
        sql = f"SELECT session_id, count(*) FROM traces WHERE session_id IN ({marks}) GROUP BY session_id"
        counts = dict(conn.execute(sql, ids).fetchall())
    rows = [{**s, "traceCount": counts.get(s["id"], 0)} for s in result["data"]]
    query = {"limit": str(limit)} if "limit" in request.query_params else {}
    return html_page(render_session_list_page(rows, result["meta"], _nav(""), query))


def session_page(request: Request, projectId: str, sessionId: str) -> HTMLResponse:
    conn = db_of(request).reader
    row = sessions.get(conn, sessionId) if projectId == PROJECT_ID else None
    if row is None:
        return not_found(f"Session {sessionId}")
    page, _ = _paging(request)
    result = query_traces(
        conn,
        blobs_of(request),
        page=page,
        limit=MAX_PAGE_LIMIT,
        sessionId=sessionId,
        orderBy="timestamp.asc",
        fields="core,scores,observations,metrics",
    )
    traces = _with_error_counts(conn, result["data"])
    return html_page(render_session_page(sessions.to_view(row), traces, result["meta"], _nav("../")))


def trace_page(request: Request, projectId: str, traceId: str) -> HTMLResponse:
    view = None
    if projectId == PROJECT_ID:
        view = trace_detail(db_of(request).reader, blobs_of(request), traceId)
    if view is None:
        return not_found(f"Trace {traceId}")
    return html_page(render_trace_page(view, trace_records_from_api(view), view["scores"], _nav("../")))


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
        datasets.run_view(run),
        _run_items(conn, run),
        trace_href=_trace_href,
        run_scores=run_scores,
        nav=_nav("../../../"),
    )
    return html_page(page)


def other_page(rest: str) -> HTMLResponse:
    # any other UI link (or an id with a slash in it) is a page this server does not have: say so in HTML
    return not_found(f"The page /project/{rest}")


def root() -> RedirectResponse:
    # relative, so it also works behind a proxy that serves the server under a path prefix
    return RedirectResponse(f"project/{PROJECT_ID}/traces", status_code=302)


ROUTES = [
    Route("GET", "/", root),
    Route("GET", "/project/{projectId}/traces", trace_list_page),
    Route("GET", "/project/{projectId}/sessions", session_list_page),
    Route("GET", "/project/{projectId}/sessions/{sessionId:path}", session_page),
    Route("GET", "/project/{projectId}/traces/{traceId:path}", trace_page),
    Route("GET", "/project/{projectId}/datasets/{datasetId}/runs/{runId}", dataset_run_page),
    Route("GET", "/project/{rest:path}", other_page),
]
