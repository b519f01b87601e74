"""Sessions (`/api/public/sessions`)."""

from __future__ import annotations

from ._base import Datetime, WireModel
from .trace import Trace
from .utils import MetaResponse


class Session(WireModel):
    id: str
    created_at: Datetime
    project_id: str
    environment: str | None = None


class SessionWithTraces(Session):
    traces: list[Trace]


class PaginatedSessions(WireModel):
    data: list[Session]
    meta: MetaResponse


__all__ = ["PaginatedSessions", "Session", "SessionWithTraces"]
