"""`GET /api/public/health`."""

from __future__ import annotations

from ._base import WireModel


class HealthResponse(WireModel):
    version: str
    status: str


__all__ = ["HealthResponse"]
