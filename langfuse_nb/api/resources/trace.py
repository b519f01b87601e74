"""``api.trace``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from langfuse_nb.wire.models import DeleteTraceResponse, Traces, TraceWithFullDetails

from .._resource import AsyncResource, SyncResource, endpoint
from .._spec import Request, RequestOptions, path


class _Trace:
    @endpoint
    def get(
        self, trace_id: str, *, request_options: RequestOptions | None = None
    ) -> Request[TraceWithFullDetails]:
        """One trace with its observations and scores."""
        url = path("api/public/traces/{}", trace_id)
        return Request("GET", url, response=TraceWithFullDetails, options=request_options)

    @endpoint
    def delete(
        self, trace_id: str, *, request_options: RequestOptions | None = None
    ) -> Request[DeleteTraceResponse]:
        url = path("api/public/traces/{}", trace_id)
        return Request("DELETE", url, response=DeleteTraceResponse, options=request_options)

    @endpoint
    def list(
        self,
        *,
        page: int | None = None,
        limit: int | None = None,
        user_id: str | None = None,
        name: str | None = None,
        session_id: str | None = None,
        from_timestamp: dt.datetime | None = None,
        to_timestamp: dt.datetime | None = None,
        order_by: str | None = None,
        tags: str | Sequence[str] | None = None,
        version: str | None = None,
        release: str | None = None,
        environment: str | Sequence[str] | None = None,
        fields: str | None = None,
        filter: str | None = None,
        request_options: RequestOptions | None = None,
    ) -> Request[Traces]:
        """A page of traces (observations and scores as ids); ``filter`` is a JSON condition list."""
        query = {
            "page": page,
            "limit": limit,
            "userId": user_id,
            "name": name,
            "sessionId": session_id,
            "fromTimestamp": from_timestamp,
            "toTimestamp": to_timestamp,
            "orderBy": order_by,
            "tags": tags,
            "version": version,
            "release": release,
            "environment": environment,
            "fields": fields,
            "filter": filter,
        }
        return Request("GET", "api/public/traces", query=query, response=Traces, options=request_options)

    @endpoint
    def delete_multiple(
        self, *, trace_ids: Sequence[str], request_options: RequestOptions | None = None
    ) -> Request[DeleteTraceResponse]:
        body = {"traceIds": list(trace_ids)}
        return Request(
            "DELETE", "api/public/traces", body=body, response=DeleteTraceResponse, options=request_options
        )


class TraceClient(_Trace, SyncResource):
    pass


class AsyncTraceClient(_Trace, AsyncResource):
    pass
