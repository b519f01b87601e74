"""``api.score`` and ``api.score_v_2``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from langfuse_nb.wire.models import (
    CreateScoreRequest,
    CreateScoreResponse,
    GetScoresResponse,
    Score,
    ScoreDataType,
    ScoreSource,
)

from .._resource import AsyncResource, SyncResource, endpoint
from .._spec import Request, RequestOptions, as_body, path


class _Score:
    @endpoint
    def create(
        self,
        *,
        request: CreateScoreRequest | Mapping[str, Any],
        request_options: RequestOptions | None = None,
    ) -> Request[CreateScoreResponse]:
        """Create a score synchronously (the SDK's ``create_score`` batches via ingestion instead)."""
        body = as_body(request, CreateScoreRequest)
        return Request(
            "POST", "api/public/scores", body=body, response=CreateScoreResponse, options=request_options
        )

    @endpoint
    def delete(self, score_id: str, *, request_options: RequestOptions | None = None) -> Request[None]:
        return Request("DELETE", path("api/public/scores/{}", score_id), options=request_options)


class _ScoreV2:
    @endpoint
    def get(
        self,
        *,
        page: int | None = None,
        limit: int | None = None,
        user_id: str | None = None,
        name: str | None = None,
        from_timestamp: dt.datetime | None = None,
        to_timestamp: dt.datetime | None = None,
        environment: str | Sequence[str] | None = None,
        source: ScoreSource | None = None,
        operator: str | None = None,
        value: float | None = None,
        score_ids: str | None = None,
        config_id: str | None = None,
        session_id: str | None = None,
        dataset_run_id: str | None = None,
        trace_id: str | None = None,
        queue_id: str | None = None,
        data_type: ScoreDataType | None = None,
        trace_tags: str | Sequence[str] | None = None,
        request_options: RequestOptions | None = None,
    ) -> Request[GetScoresResponse]:
        """A page of scores matching the filters."""
        query = {
            "page": page,
            "limit": limit,
            "userId": user_id,
            "name": name,
            "fromTimestamp": from_timestamp,
            "toTimestamp": to_timestamp,
            "environment": environment,
            "source": source,
            "operator": operator,
            "value": value,
            "scoreIds": score_ids,
            "configId": config_id,
            "sessionId": session_id,
            "datasetRunId": dataset_run_id,
            "traceId": trace_id,
            "queueId": queue_id,
            "dataType": data_type,
            "traceTags": trace_tags,
        }
        return Request(
            "GET", "api/public/v2/scores", query=query, response=GetScoresResponse, options=request_options
        )

    @endpoint
    def get_by_id(self, score_id: str, *, request_options: RequestOptions | None = None) -> Request[Score]:
        url = path("api/public/v2/scores/{}", score_id)
        return Request("GET", url, response=Score, options=request_options)


class ScoreClient(_Score, SyncResource):
    pass


class AsyncScoreClient(_Score, AsyncResource):
    pass


class ScoreV2Client(_ScoreV2, SyncResource):
    pass


class AsyncScoreV2Client(_ScoreV2, AsyncResource):
    pass
