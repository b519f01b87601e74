"""``api.health``."""

from __future__ import annotations

from langfuse_nb.wire.models import HealthResponse

from .._resource import AsyncResource, SyncResource, endpoint
from .._spec import Request, RequestOptions


class _Health:
    @endpoint
    def health(self, *, request_options: RequestOptions | None = None) -> Request[HealthResponse]:
        """Server health and version (no auth needed upstream)."""
        return Request("GET", "api/public/health", response=HealthResponse, options=request_options)


class HealthClient(_Health, SyncResource):
    pass


class AsyncHealthClient(_Health, AsyncResource):
    pass
