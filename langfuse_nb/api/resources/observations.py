"""``api.observations``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from langfuse_nb.wire.models import ObservationLevel, ObservationsView, ObservationsViews

from .._resource import AsyncResource, SyncResource, endpoint
from .._spec import Request, RequestOptions, path


class _Observations:
    @endpoint
    def get(
        self, observation_id: str, *, request_options: RequestOptions | None = None
    ) -> Request[ObservationsView]:
        url = path("api/public/observations/{}", observation_id)
        return Request("GET", url, response=ObservationsView, options=request_options)

    @endpoint
    def get_many(
        self,
        *,
        page: int | None = None,
        limit: int | None = None,
        name: str | None = None,
        user_id: str | None = None,
        type: str | None = None,
        trace_id: str | None = None,
        level: ObservationLevel | None = None,
        parent_observation_id: str | None = None,
        environment: str | Sequence[str] | None = None,
        from_start_time: dt.datetime | None = None,
        to_start_time: dt.datetime | None = None,
        version: str | None = None,
        filter: str | None = None,
        request_options: RequestOptions | None = None,
    ) -> Request[ObservationsViews]:
        """A page of observations; ``filter`` is a JSON condition list."""
        query = {
            "page": page,
            "limit": limit,
            "name": name,
            "userId": user_id,
            "type": type,
            "traceId": trace_id,
            "level": level,
            "parentObservationId": parent_observation_id,
            "environment": environment,
            "fromStartTime": from_start_time,
            "toStartTime": to_start_time,
            "version": version,
            "filter": filter,
        }
        url = "api/public/observations"
        return Request("GET", url, query=query, response=ObservationsViews, options=request_options)


class ObservationsClient(_Observations, SyncResource):
    pass


class AsyncObservationsClient(_Observations, AsyncResource):
    pass
