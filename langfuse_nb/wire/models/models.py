"""Model definitions and prices (`/api/public/models`)."""

from __future__ import annotations

import enum
from typing import Any

from ._base import Datetime, WireModel
from .utils import MetaResponse


class ModelUsageUnit(str, enum.Enum):
    CHARACTERS = "CHARACTERS"
    TOKENS = "TOKENS"
    MILLISECONDS = "MILLISECONDS"
    SECONDS = "SECONDS"
    IMAGES = "IMAGES"
    REQUESTS = "REQUESTS"


class PricingTierOperator(str, enum.Enum):
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    EQ = "eq"
    NEQ = "neq"


class PricingTierCondition(WireModel):
    """A usage condition; attribute conditions (``source``/``key``/``values``) arrive as extra fields."""

    usage_detail_pattern: str | None = None
    operator: str
    value: float | None = None
    case_sensitive: bool = False


class PricingTierInput(WireModel):
    name: str
    is_default: bool
    priority: int
    conditions: list[PricingTierCondition]
    prices: dict[str, float]


class PricingTier(PricingTierInput):
    id: str


class ModelPrice(WireModel):
    price: float


class Model(WireModel):
    id: str
    model_name: str
    match_pattern: str
    start_date: Datetime | None = None
    unit: ModelUsageUnit | None = None
    input_price: float | None = None
    output_price: float | None = None
    total_price: float | None = None
    tokenizer_id: str | None = None
    tokenizer_config: Any = None
    is_langfuse_managed: bool
    created_at: Datetime
    prices: dict[str, ModelPrice]
    pricing_tiers: list[PricingTier]


class PaginatedModels(WireModel):
    data: list[Model]
    meta: MetaResponse


class CreateModelRequest(WireModel):
    model_name: str
    match_pattern: str
    start_date: Datetime | None = None
    unit: ModelUsageUnit | None = None
    input_price: float | None = None
    output_price: float | None = None
    total_price: float | None = None
    pricing_tiers: list[PricingTierInput] | None = None
    tokenizer_id: str | None = None
    tokenizer_config: Any = None


__all__ = [
    "CreateModelRequest",
    "Model",
    "ModelPrice",
    "ModelUsageUnit",
    "PaginatedModels",
    "PricingTier",
    "PricingTierCondition",
    "PricingTierInput",
    "PricingTierOperator",
]
