"""``api.models``: model definitions and prices used for cost calculation."""

from __future__ import annotations

from typing import Any

from langfuse_nb.wire.models import CreateModelRequest, Model, PaginatedModels

from .._resource import AsyncResource, SyncResource, endpoint
from .._spec import Request, RequestOptions, path


class _Models:
    @endpoint
    def create(
        self, *, request: CreateModelRequest | dict[str, Any], request_options: RequestOptions | None = None
    ) -> Request[Model]:
        """A project model; its match pattern takes precedence over the built-in definitions."""
        return Request("POST", "api/public/models", body=request, response=Model, options=request_options)

    @endpoint
    def list(
        self,
        *,
        page: int | None = None,
        limit: int | None = None,
        request_options: RequestOptions | None = None,
    ) -> Request[PaginatedModels]:
        """Project and built-in ("Langfuse managed") models, by name."""
        query = {"page": page, "limit": limit}
        return Request(
            "GET", "api/public/models", query=query, response=PaginatedModels, options=request_options
        )

    @endpoint
    def get(self, id: str, *, request_options: RequestOptions | None = None) -> Request[Model]:
        return Request("GET", path("api/public/models/{}", id), response=Model, options=request_options)

    @endpoint
    def delete(self, id: str, *, request_options: RequestOptions | None = None) -> Request[None]:
        """Delete a project model (built-in ones cannot be deleted: 404)."""
        return Request("DELETE", path("api/public/models/{}", id), response=None, options=request_options)


class ModelsClient(_Models, SyncResource):
    pass


class AsyncModelsClient(_Models, AsyncResource):
    pass
