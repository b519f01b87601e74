"""Traces as read back from the API (`/api/public/traces`)."""

from __future__ import annotations

from typing import Any

from ._base import Datetime, WireModel
from .observations import ObservationsView
from .scores import ScoreV1
from .utils import MetaResponse


class Trace(WireModel):
    id: str
    timestamp: Datetime
    name: str | None = None
    input: Any = None
    output: Any = None
    session_id: str | None = None
    release: str | None = None
    version: str | None = None
    user_id: str | None = None
    metadata: Any = None
    tags: list[str] | None = None
    public: bool | None = None
    environment: str | None = None


class TraceWithDetails(Trace):
    """A list entry: observations and scores are ids."""

    html_path: str
    latency: float
    total_cost: float
    observations: list[str]
    scores: list[str]


class TraceWithFullDetails(Trace):
    """A single trace: observations and scores are full objects."""

    html_path: str
    latency: float
    total_cost: float
    observations: list[ObservationsView]
    scores: list[ScoreV1]


class Traces(WireModel):
    data: list[TraceWithDetails]
    meta: MetaResponse


class DeleteTraceResponse(WireModel):
    message: str


class Sort(WireModel):
    id: str


__all__ = ["DeleteTraceResponse", "Sort", "Trace", "TraceWithDetails", "TraceWithFullDetails", "Traces"]
