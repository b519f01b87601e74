"""``api.media`` and ``api.ingestion``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langfuse_nb.wire.models import (
    GetMediaResponse,
    GetMediaUploadUrlRequest,
    GetMediaUploadUrlResponse,
    IngestionEvent,
    IngestionResponse,
    PatchMediaBody,
)

from .._resource import AsyncResource, SyncResource, endpoint
from .._spec import OMIT, Request, RequestOptions, as_body, path, to_jsonable


class _Media:
    @endpoint
    def get(
        self, media_id: str, *, request_options: RequestOptions | None = None
    ) -> Request[GetMediaResponse]:
        """Media metadata and a (self-authorizing) download URL."""
        url = path("api/public/media/{}", media_id)
        return Request("GET", url, response=GetMediaResponse, options=request_options)

    @endpoint
    def patch(
        self,
        media_id: str,
        *,
        request: PatchMediaBody | Mapping[str, Any],
        request_options: RequestOptions | None = None,
    ) -> Request[None]:
        """Report the outcome of an upload."""
        url = path("api/public/media/{}", media_id)
        return Request("PATCH", url, body=as_body(request, PatchMediaBody), options=request_options)

    @endpoint
    def get_upload_url(
        self,
        *,
        request: GetMediaUploadUrlRequest | Mapping[str, Any],
        request_options: RequestOptions | None = None,
    ) -> Request[GetMediaUploadUrlResponse]:
        """Register media; ``upload_url`` is None when the server already has these bytes."""
        body = as_body(request, GetMediaUploadUrlRequest)
        return Request(
            "POST", "api/public/media", body=body, response=GetMediaUploadUrlResponse, options=request_options
        )


class _Ingestion:
    @endpoint
    def batch(
        self,
        *,
        batch: Sequence[IngestionEvent | Mapping[str, Any]],
        metadata: Any = OMIT,
        request_options: RequestOptions | None = None,
    ) -> Request[IngestionResponse]:
        """Send a batch of legacy ingestion events (answered with 207 and per-event results)."""
        events = [as_body(event, IngestionEvent) for event in batch]
        body = {"batch": events, "metadata": to_jsonable(metadata)}
        return Request(
            "POST", "api/public/ingestion", body=body, response=IngestionResponse, options=request_options
        )


class MediaClient(_Media, SyncResource):
    pass


class AsyncMediaClient(_Media, AsyncResource):
    pass


class IngestionClient(_Ingestion, SyncResource):
    pass


class AsyncIngestionClient(_Ingestion, AsyncResource):
    pass
