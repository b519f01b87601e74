"""Observations as read back from the API (`/api/public/observations`)."""

from __future__ import annotations

import enum
from typing import Any

from ._base import Datetime, WireModel
from .utils import MetaResponse


class ObservationLevel(str, enum.Enum):
    DEBUG = "DEBUG"
    DEFAULT = "DEFAULT"
    WARNING = "WARNING"
    ERROR = "ERROR"


class ModelUsageUnit(str, enum.Enum):
    CHARACTERS = "CHARACTERS"
    TOKENS = "TOKENS"
    MILLISECONDS = "MILLISECONDS"
    SECONDS = "SECONDS"
    IMAGES = "IMAGES"
    REQUESTS = "REQUESTS"


class Usage(WireModel):
    input: int | None = None
    output: int | None = None
    total: int | None = None
    unit: ModelUsageUnit | None = None
    input_cost: float | None = None
    output_cost: float | None = None
    total_cost: float | None = None


class Observation(WireModel):
    id: str
    trace_id: str | None = None
    type: str
    name: str | None = None
    start_time: Datetime
    end_time: Datetime | None = None
    completion_start_time: Datetime | None = None
    model: str | None = None
    model_parameters: dict[str, Any] | None = None
    input: Any = None
    version: str | None = None
    metadata: Any = None
    output: Any = None
    usage: Usage | None = None
    level: ObservationLevel
    status_message: str | None = None
    parent_observation_id: str | None = None
    prompt_id: str | None = None
    usage_details: dict[str, int] | None = None
    cost_details: dict[str, float] | None = None
    environment: str | None = None


class ObservationsView(Observation):
    prompt_name: str | None = None
    prompt_version: int | None = None
    model_id: str | None = None
    input_price: float | None = None
    output_price: float | None = None
    total_price: float | None = None
    calculated_input_cost: float | None = None
    calculated_output_cost: float | None = None
    calculated_total_cost: float | None = None
    latency: float | None = None
    time_to_first_token: float | None = None


class Observations(WireModel):
    data: list[Observation]
    meta: MetaResponse


class ObservationsViews(WireModel):
    data: list[ObservationsView]
    meta: MetaResponse


__all__ = [
    "ModelUsageUnit",
    "Observation",
    "ObservationLevel",
    "Observations",
    "ObservationsView",
    "ObservationsViews",
    "Usage",
]
