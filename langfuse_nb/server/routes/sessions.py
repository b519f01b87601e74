"""Session endpoints."""

from __future__ import annotations

import sqlite3
from typing import Annotated, Any

from fastapi import Query, Request

from langfuse_nb.server.config import PROJECT_ID
from langfuse_nb.server.errors import NotFound
from langfuse_nb.server.http import JsonResponse, blobs_of, config_of, db_of, ok
from langfuse_nb.server.query import Where
from langfuse_nb.server.routes import Route
from langfuse_nb.server.routes.paging import list_page
from langfuse_nb.server.routes.traces import SELECT_TRACE_VIEW, TraceViews
from langfuse_nb.server.store import counts, sessions
from langfuse_nb.server.store.observations import tuples

StrList = Annotated[list[str] | None, Query()]


def list_sessions(
    request: Request,
    page: int | None = None,
    limit: int | None = None,
    fromTimestamp: str | None = None,
    toTimestamp: str | None = None,
    environment: StrList = None,
) -> JsonResponse:
    return ok(
        query_sessions(
            db_of(request).reader,
            page=page,
            limit=limit,
            fromTimestamp=fromTimestamp,
            toTimestamp=toTimestamp,
            environment=environment,
            project_id=config_of(request).project_id,
        )
    )


def query_sessions(
    conn: sqlite3.Connection,
    *,
    page: int | None = None,
    limit: int | None = None,
    fromTimestamp: str | None = None,
    toTimestamp: str | None = None,
    environment: list[str] | None = None,
    project_id: str = PROJECT_ID,
) -> dict[str, Any]:
    """One page of sessions, newest first, ``{"data", "meta"}`` (the list API and the HTML pages)."""
    paging = list_page(page, limit)
    where = Where()
    where.time("created_at", ">=", fromTimestamp)
    where.time("created_at", "<", toTimestamp)
    where.any_of("environment", environment)
    rows = conn.execute(
        f"SELECT * FROM sessions {where.sql()} ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
        [*where.params, paging.limit, paging.offset],
    ).fetchall()
    total = counts.count(conn, f"SELECT count(*) FROM sessions {where.sql()}", where.params)
    return {"data": [sessions.to_view(r, project_id) for r in rows], "meta": paging.meta(total)}


def get_session(request: Request, sessionId: str) -> JsonResponse:
    conn = db_of(request).reader
    row = sessions.get(conn, sessionId)
    if row is None:
        raise NotFound(f"Session {sessionId} not found")
    trace_rows = tuples(
        conn.execute(f"{SELECT_TRACE_VIEW} WHERE t.session_id = ? ORDER BY t.timestamp", (sessionId,))
    )
    project_id = config_of(request).project_id
    views = TraceViews(conn, blobs_of(request), project_id).views(trace_rows)
    return ok({**sessions.to_view(row, project_id), "traces": views})


ROUTES = [
    Route("GET", "/api/public/sessions", list_sessions),
    Route("GET", "/api/public/sessions/{sessionId:path}", get_session),
]
