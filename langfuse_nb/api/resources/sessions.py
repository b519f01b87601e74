"""``api.sessions``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from langfuse_nb.wire.models import PaginatedSessions, SessionWithTraces

from .._resource import AsyncResource, SyncResource, endpoint
from .._spec import Request, RequestOptions, path


class _Sessions:
    @endpoint
    def list(
        self,
        *,
        page: int | None = None,
        limit: int | None = None,
        from_timestamp: dt.datetime | None = None,
        to_timestamp: dt.datetime | None = None,
        environment: str | Sequence[str] | None = None,
        request_options: RequestOptions | None = None,
    ) -> Request[PaginatedSessions]:
        query = {
            "page": page,
            "limit": limit,
            "fromTimestamp": from_timestamp,
            "toTimestamp": to_timestamp,
            "environment": environment,
        }
        return Request(
            "GET", "api/public/sessions", query=query, response=PaginatedSessions, options=request_options
        )

    @endpoint
    def get(
        self, session_id: str, *, request_options: RequestOptions | None = None
    ) -> Request[SessionWithTraces]:
        url = path("api/public/sessions/{}", session_id)
        return Request("GET", url, response=SessionWithTraces, options=request_options)


class SessionsClient(_Sessions, SyncResource):
    pass


class AsyncSessionsClient(_Sessions, AsyncResource):
    pass
