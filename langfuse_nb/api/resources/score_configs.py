"""``api.score_configs``: the definitions human and automated scores are validated against."""

from __future__ import annotations

from typing import Any

from langfuse_nb.wire.models import (
    CreateScoreConfigRequest,
    ScoreConfig,
    ScoreConfigs,
    UpdateScoreConfigRequest,
)

from .._resource import AsyncResource, SyncResource, endpoint
from .._spec import Request, RequestOptions, path


class _ScoreConfigs:
    @endpoint
    def create(
        self,
        *,
        request: CreateScoreConfigRequest | dict[str, Any],
        request_options: RequestOptions | None = None,
    ) -> Request[ScoreConfig]:
        return Request(
            "POST", "api/public/score-configs", body=request, response=ScoreConfig, options=request_options
        )

    @endpoint
    def get(
        self,
        *,
        page: int | None = None,
        limit: int | None = None,
        request_options: RequestOptions | None = None,
    ) -> Request[ScoreConfigs]:
        """A page of score configs, newest first."""
        query = {"page": page, "limit": limit}
        return Request(
            "GET", "api/public/score-configs", query=query, response=ScoreConfigs, options=request_options
        )

    @endpoint
    def get_by_id(
        self, config_id: str, *, request_options: RequestOptions | None = None
    ) -> Request[ScoreConfig]:
        url = path("api/public/score-configs/{}", config_id)
        return Request("GET", url, response=ScoreConfig, options=request_options)

    @endpoint
    def update(
        self,
        config_id: str,
        *,
        request: UpdateScoreConfigRequest | dict[str, Any],
        request_options: RequestOptions | None = None,
    ) -> Request[ScoreConfig]:
        url = path("api/public/score-configs/{}", config_id)
        return Request("PATCH", url, body=request, response=ScoreConfig, options=request_options)


class ScoreConfigsClient(_ScoreConfigs, SyncResource):
    pass


class AsyncScoreConfigsClient(_ScoreConfigs, AsyncResource):
    pass
