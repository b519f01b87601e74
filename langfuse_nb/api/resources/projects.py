"""``api.projects``."""

from __future__ import annotations

from typing import Any

from langfuse_nb.wire.models import (
    ApiKeyDeletionResponse,
    ApiKeyList,
    ApiKeyResponse,
    Project,
    ProjectDeletionResponse,
    Projects,
)

from .._resource import AsyncResource, SyncResource, endpoint
from .._spec import OMIT, Request, RequestOptions, path


class _Projects:
    @endpoint
    def get(self, *, request_options: RequestOptions | None = None) -> Request[Projects]:
        """The project the API keys belong to (a one-element list)."""
        return Request("GET", "api/public/projects", response=Projects, options=request_options)

    @endpoint
    def create(
        self,
        *,
        name: str,
        retention: int,
        metadata: dict[str, Any] | None = OMIT,
        request_options: RequestOptions | None = None,
    ) -> Request[Project]:
        body = {"name": name, "metadata": metadata, "retention": retention}
        return Request("POST", "api/public/projects", body=body, response=Project, options=request_options)

    @endpoint
    def update(
        self,
        project_id: str,
        *,
        name: str,
        retention: int,
        metadata: dict[str, Any] | None = OMIT,
        request_options: RequestOptions | None = None,
    ) -> Request[Project]:
        body = {"name": name, "metadata": metadata, "retention": retention}
        url = path("api/public/projects/{}", project_id)
        return Request("PUT", url, body=body, response=Project, options=request_options)

    @endpoint
    def delete(
        self, project_id: str, *, request_options: RequestOptions | None = None
    ) -> Request[ProjectDeletionResponse]:
        url = path("api/public/projects/{}", project_id)
        return Request("DELETE", url, response=ProjectDeletionResponse, options=request_options)

    @endpoint
    def get_api_keys(
        self, project_id: str, *, request_options: RequestOptions | None = None
    ) -> Request[ApiKeyList]:
        url = path("api/public/projects/{}/apiKeys", project_id)
        return Request("GET", url, response=ApiKeyList, options=request_options)

    @endpoint
    def create_api_key(
        self,
        project_id: str,
        *,
        note: str | None = OMIT,
        public_key: str | None = OMIT,
        secret_key: str | None = OMIT,
        request_options: RequestOptions | None = None,
    ) -> Request[ApiKeyResponse]:
        body = {"note": note, "publicKey": public_key, "secretKey": secret_key}
        url = path("api/public/projects/{}/apiKeys", project_id)
        return Request("POST", url, body=body, response=ApiKeyResponse, options=request_options)

    @endpoint
    def delete_api_key(
        self, project_id: str, api_key_id: str, *, request_options: RequestOptions | None = None
    ) -> Request[ApiKeyDeletionResponse]:
        url = path("api/public/projects/{}/apiKeys/{}", project_id, api_key_id)
        return Request("DELETE", url, response=ApiKeyDeletionResponse, options=request_options)


class ProjectsClient(_Projects, SyncResource):
    pass


class AsyncProjectsClient(_Projects, AsyncResource):
    pass
