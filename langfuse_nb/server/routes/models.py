"""``/api/public/models``: list, get, create and delete model definitions (costs spec §9)."""

from __future__ import annotations

import math
import uuid
from typing import Any

from fastapi import Request

from langfuse_nb.server import costs
from langfuse_nb.server.costs import ModelDef, Tier
from langfuse_nb.server.errors import BadRequest, NotFound
from langfuse_nb.server.http import JsonBody, JsonResponse, db_of, json_object, ok
from langfuse_nb.server.query import page_of
from langfuse_nb.server.routes import Route
from langfuse_nb.server.store import models
from langfuse_nb.server.values import now_iso, parse_iso

_NOT_FOUND = "No model with this id found."
_NOT_DELETABLE = (
    "No model with this id found. Note: You cannot delete built-in models, override them with a model "
    "with the same name."
)
_USAGE_OPERATORS = frozenset({"gt", "gte", "lt", "lte", "eq", "neq"})


def list_models(request: Request, page: int | None = None, limit: int | None = None) -> JsonResponse:
    paging = page_of(page, limit)
    found = models.all_models(db_of(request).reader)
    chosen = found[paging.offset : paging.offset + paging.limit]
    return ok({"data": [m.to_api() for m in chosen], "meta": paging.meta(len(found))})


def get_model(request: Request, id: str) -> JsonResponse:
    model = models.get(db_of(request).reader, id)
    if model is None:
        raise NotFound(_NOT_FOUND)
    return ok(model.to_api())


def delete_model(request: Request, id: str) -> JsonResponse:
    with db_of(request).write() as conn:
        if not models.delete(conn, id):
            raise NotFound(_NOT_DELETABLE)
    return ok({"message": "Model successfully deleted"})


def create_model(request: Request, body: JsonBody) -> JsonResponse:
    model = parse_create(json_object(body))
    with db_of(request).write() as conn:
        if models.name_taken(conn, model.model_name):
            raise BadRequest(f"Model name '{model.model_name}' already exists in project")
        models.insert(conn, model)
    return ok(model.to_api())


# ---- request validation ------------------------------------------------------------------------------------


def parse_create(body: dict[str, Any]) -> ModelDef:
    name = _required_str(body, "modelName")
    pattern = _required_str(body, "matchPattern")
    if costs.compile_pattern(pattern) is None:
        raise BadRequest("matchPattern is not a valid regex pattern (Postgres)")
    unit = body.get("unit")
    if unit not in costs.UNITS:
        raise BadRequest(f"'unit' is required and must be one of {list(costs.UNITS)}")
    model_id = f"c{uuid.uuid4().hex[:24]}"
    flat = {k: _price(body, f"{k}Price") for k in ("input", "output", "total")}
    raw_tiers = body.get("pricingTiers")
    tiers = _tiers_or_flat(model_id, flat, raw_tiers)
    now = now_iso()
    return ModelDef(
        id=model_id,
        model_name=name,
        match_pattern=pattern,
        tiers=tiers,
        project_owned=True,
        start_date=_start_date(body.get("startDate")),
        unit=unit,
        legacy_prices=flat if not raw_tiers else {},
        tokenizer_id=_tokenizer_id(body.get("tokenizerId")),
        tokenizer_config=body.get("tokenizerConfig"),
        created_at=now,
        updated_at=now,
    )


def _tiers_or_flat(model_id: str, flat: dict[str, float | None], raw_tiers: Any) -> tuple[Tier, ...]:
    """Exactly one of flat prices and pricing tiers; flat prices become a default "Standard" tier."""
    has_flat = any(v is not None for v in flat.values())
    if has_flat == bool(raw_tiers):
        raise BadRequest("Provide either flat prices (inputPrice/outputPrice/totalPrice) or pricingTiers")
    if has_flat:
        if flat["total"] and (flat["input"] or flat["output"]):
            raise BadRequest("If input and/or output price is set, total price must be null")
        prices = {k: v for k, v in flat.items() if v is not None}
        return (Tier(f"{model_id}_tier_default", "Standard", True, 0, (), prices),)
    if not isinstance(raw_tiers, list):
        raise BadRequest("'pricingTiers' must be a list")
    tiers = tuple(_tier(t, i) for i, t in enumerate(raw_tiers))
    _check_tiers(tiers)
    return tiers


def _tier(raw: Any, index: int) -> Tier:
    where = f"pricingTiers[{index}]"
    if not isinstance(raw, dict):
        raise BadRequest(f"{where} must be an object")
    name = raw.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
        raise BadRequest(f"{where}.name must be 1-100 characters")
    priority = raw.get("priority")
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 999:
        raise BadRequest(f"{where}.priority must be an integer 0-999")
    prices = raw.get("prices")
    if not isinstance(prices, dict) or not prices:
        raise BadRequest(f"{where}.prices must be a non-empty map of usage type to price")
    for key, value in prices.items():
        if not _is_price(value):
            raise BadRequest(f"{where}.prices.{key} must be a number >= 0")
    conditions = raw.get("conditions") or []
    if not isinstance(conditions, list):
        raise BadRequest(f"{where}.conditions must be a list")
    for condition in conditions:
        _check_condition(condition, where)
    tier_id = f"c{uuid.uuid4().hex[:24]}"
    clean = {str(k): float(v) for k, v in prices.items()}
    return Tier(tier_id, name.strip(), raw.get("isDefault") is True, priority, tuple(conditions), clean)


def _check_condition(condition: Any, where: str) -> None:
    if not isinstance(condition, dict):
        raise BadRequest(f"{where}.conditions entries must be objects")
    if "usageDetailPattern" in condition:
        pattern = condition["usageDetailPattern"]
        if (
            not isinstance(pattern, str)
            or not 1 <= len(pattern) <= 200
            or costs.compile_pattern(pattern) is None
        ):
            raise BadRequest(f"{where}: usageDetailPattern must be a valid regex of 1-200 characters")
        if condition.get("operator") not in _USAGE_OPERATORS or not _is_price(condition.get("value")):
            raise BadRequest(
                f"{where}: a usage condition needs operator {sorted(_USAGE_OPERATORS)} and value >= 0"
            )
        return
    values = condition.get("values")
    if (
        condition.get("source") not in ("model_parameters", "metadata")
        or not isinstance(condition.get("key"), str)
        or not 1 <= len(condition["key"]) <= 200
        or condition.get("operator") != "in"
        or not isinstance(values, list)
        or not values
        or not all(isinstance(v, str) and v for v in values)
    ):
        raise BadRequest(f"{where}: invalid condition {condition!r}")


def _check_tiers(tiers: tuple[Tier, ...]) -> None:
    defaults = [t for t in tiers if t.is_default]
    if len(defaults) != 1:
        raise BadRequest("Exactly one pricing tier must be the default (isDefault: true)")
    default = defaults[0]
    if default.priority != 0 or default.conditions:
        raise BadRequest("The default pricing tier must have priority 0 and no conditions")
    if len({t.priority for t in tiers}) != len(tiers) or len({t.name for t in tiers}) != len(tiers):
        raise BadRequest("Pricing tier priorities and names must be unique")
    for tier in tiers:
        if not tier.is_default and not tier.conditions:
            raise BadRequest(f"Pricing tier '{tier.name}' needs at least one condition")
        if tier.prices.keys() != default.prices.keys():
            raise BadRequest(
                f"Pricing tier '{tier.name}' must price the same usage types as the default tier"
            )


def _required_str(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"'{key}' is required and must be a non-empty string")
    return value


def _is_price(value: Any) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
    )


def _price(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if not _is_price(value):
        raise BadRequest(f"'{key}' must be a number >= 0")
    return float(value)


def _start_date(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return parse_iso(value)
    except (ValueError, TypeError):
        raise BadRequest(f"'startDate' is not an ISO-8601 datetime: {value!r}") from None


def _tokenizer_id(value: Any) -> str | None:
    if value not in (None, "openai", "claude"):
        raise BadRequest("'tokenizerId' must be 'openai', 'claude' or null")
    return value


ROUTES = [
    Route("GET", "/api/public/models", list_models),
    Route("POST", "/api/public/models", create_model),
    Route("GET", "/api/public/models/{id}", get_model),
    Route("DELETE", "/api/public/models/{id}", delete_model),
]
