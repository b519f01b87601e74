"""``api.prompts`` and ``api.prompt_version``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from langfuse_nb.wire.models import CreatePromptRequest, Prompt, PromptMetaListResponse

from .._resource import AsyncResource, SyncResource, endpoint
from .._spec import Request, RequestOptions, as_body, path
from .._url import PROMPT_PATH


class _Prompts:
    @endpoint
    def get(
        self,
        prompt_name: str,
        *,
        version: int | None = None,
        label: str | None = None,
        request_options: RequestOptions | None = None,
    ) -> Request[Prompt]:
        """One prompt version by ``version`` or ``label`` (the server defaults to ``production``)."""
        url = path(PROMPT_PATH, prompt_name)
        query = {"version": version, "label": label}
        return Request("GET", url, query=query, response=Prompt, options=request_options)

    @endpoint
    def list(
        self,
        *,
        name: str | None = None,
        label: str | None = None,
        tag: str | None = None,
        page: int | None = None,
        limit: int | None = None,
        from_updated_at: dt.datetime | None = None,
        to_updated_at: dt.datetime | None = None,
        request_options: RequestOptions | None = None,
    ) -> Request[PromptMetaListResponse]:
        query = {
            "name": name,
            "label": label,
            "tag": tag,
            "page": page,
            "limit": limit,
            "fromUpdatedAt": from_updated_at,
            "toUpdatedAt": to_updated_at,
        }
        return Request(
            "GET",
            "api/public/v2/prompts",
            query=query,
            response=PromptMetaListResponse,
            options=request_options,
        )

    @endpoint
    def create(
        self,
        *,
        request: CreatePromptRequest | Mapping[str, Any],
        request_options: RequestOptions | None = None,
    ) -> Request[Prompt]:
        """Create a new version of a text or chat prompt."""
        body = as_body(request, CreatePromptRequest)
        return Request("POST", "api/public/v2/prompts", body=body, response=Prompt, options=request_options)

    @endpoint
    def delete(
        self,
        prompt_name: str,
        *,
        label: str | None = None,
        version: int | None = None,
        request_options: RequestOptions | None = None,
    ) -> Request[None]:
        url = path(PROMPT_PATH, prompt_name)
        return Request("DELETE", url, query={"label": label, "version": version}, options=request_options)


class _PromptVersion:
    @endpoint
    def update(
        self,
        name: str,
        version: int,
        *,
        new_labels: Sequence[str],
        request_options: RequestOptions | None = None,
    ) -> Request[Prompt]:
        """Set the labels of one prompt version (labels move off other versions)."""
        url = path("api/public/v2/prompts/{}/versions/{}", name, version)
        body = {"newLabels": list(new_labels)}
        return Request("PATCH", url, body=body, response=Prompt, options=request_options)


class PromptsClient(_Prompts, SyncResource):
    pass


class AsyncPromptsClient(_Prompts, AsyncResource):
    pass


class PromptVersionClient(_PromptVersion, SyncResource):
    pass


class AsyncPromptVersionClient(_PromptVersion, AsyncResource):
    pass
