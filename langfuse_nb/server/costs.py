"""Models, prices and cost: pure functions (model-prices-and-costs.md §3-§6).

A model definition carries pricing tiers; an observation's model name picks a definition (project models
first), its usage picks a tier, and usage x tier prices gives the cost unless the client sent a cost.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

import orjson

UNITS = ("TOKENS", "CHARACTERS", "MILLISECONDS", "SECONDS", "REQUESTS", "IMAGES")
_OPERATORS = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "eq": lambda a, b: a == b,
    "neq": lambda a, b: a != b,
}
_MAX_COUNT = 2**64 - 1  # usage is stored as an unsigned 64-bit count upstream


@dataclass(frozen=True)
class Tier:
    id: str
    name: str
    is_default: bool
    priority: int
    conditions: tuple[dict[str, Any], ...]
    prices: dict[str, float]

    def to_api(self) -> dict[str, Any]:
        """Attribute conditions go to ``attributeConditions``: the public ``PricingTierCondition`` schema
        (and the 3.11.2 SDK parsing it) only knows usage conditions (docs/DEVIATIONS.md)."""
        usage = [c for c in self.conditions if "usageDetailPattern" in c]
        attribute = [c for c in self.conditions if "usageDetailPattern" not in c]
        return {
            "id": self.id,
            "name": self.name,
            "isDefault": self.is_default,
            "priority": self.priority,
            "conditions": [{"caseSensitive": False, **c} for c in usage],
            "prices": dict(self.prices),
            **({"attributeConditions": attribute} if attribute else {}),
        }

    def stored(self) -> dict[str, Any]:
        """The stored form: every condition, as given."""
        api = self.to_api()
        api.pop("attributeConditions", None)
        return {**api, "conditions": list(self.conditions)}


@dataclass(frozen=True)
class ModelDef:
    id: str
    model_name: str
    match_pattern: str
    tiers: tuple[Tier, ...]
    project_owned: bool = False
    start_date: str | None = None
    unit: str | None = None
    legacy_prices: dict[str, float | None] = field(default_factory=dict)
    tokenizer_id: str | None = None
    tokenizer_config: Any = None
    created_at: str | None = None
    updated_at: str | None = None

    @functools.cached_property
    def regex(self) -> re.Pattern[str] | None:
        return compile_pattern(self.match_pattern)

    @functools.cached_property
    def default_tier(self) -> Tier | None:
        return next((t for t in self.tiers if t.is_default), None)

    @functools.cached_property
    def conditional_tiers(self) -> tuple[Tier, ...]:
        """Non-default tiers in the order they are tried (priority ascending)."""
        return tuple(sorted((t for t in self.tiers if not t.is_default), key=lambda t: t.priority))

    def price(self, usage_type: str) -> float | None:
        """The default tier's price for a usage type, else the legacy flat price (API fields)."""
        tier = self.default_tier
        if tier is not None and usage_type in tier.prices:
            return tier.prices[usage_type]
        return self.legacy_prices.get(usage_type)

    def to_api(self) -> dict[str, Any]:
        """The public ``Model`` object (§9.1)."""
        tier = self.default_tier
        return {
            "id": self.id,
            "modelName": self.model_name,
            "matchPattern": self.match_pattern,
            "startDate": self.start_date,
            "unit": self.unit,
            "inputPrice": self.price("input"),
            "outputPrice": self.price("output"),
            "totalPrice": self.price("total"),
            "tokenizerId": self.tokenizer_id,
            "tokenizerConfig": self.tokenizer_config,
            "isLangfuseManaged": not self.project_owned,
            "createdAt": self.created_at,
            "prices": {k: {"price": v} for k, v in (tier.prices if tier else {}).items()},
            "pricingTiers": [t.to_api() for t in sorted(self.tiers, key=lambda t: t.priority)],
        }


def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """Python ``re`` with search semantics; an embedded ``(?i)`` is the only case switch, as upstream."""
    try:
        return re.compile(pattern)
    except (re.error, TypeError, ValueError, OverflowError, RecursionError):
        return None


def tier_from_json(data: dict[str, Any]) -> Tier:
    return Tier(
        id=str(data["id"]),
        name=str(data["name"]),
        is_default=bool(data["isDefault"]),
        priority=int(data["priority"]),
        conditions=tuple(data.get("conditions") or ()),
        prices={str(k): float(v) for k, v in (data.get("prices") or {}).items()},
    )


@functools.lru_cache(maxsize=1)
def builtin_models() -> tuple[ModelDef, ...]:
    """The bundled Langfuse price table (``server/data/model-prices.json``), in file order."""
    raw = resources.files("langfuse_nb.server").joinpath("data/model-prices.json").read_bytes()
    return tuple(
        ModelDef(
            id=entry["id"],
            model_name=entry["modelName"],
            match_pattern=entry["matchPattern"],
            tiers=tuple(tier_from_json(t) for t in entry.get("pricingTiers") or ()),
            tokenizer_id=entry.get("tokenizerId"),
            tokenizer_config=entry.get("tokenizerConfig"),
            created_at=entry.get("createdAt"),
            updated_at=entry.get("updatedAt"),
        )
        for entry in orjson.loads(raw)
    )


@functools.lru_cache(maxsize=1)
def builtin_by_id() -> dict[str, ModelDef]:
    return {model.id: model for model in builtin_models()}


@functools.lru_cache(maxsize=4096)
def match_builtin(name: str) -> ModelDef | None:
    """First built-in definition whose pattern is found in ``name`` (file order breaks ties)."""
    for model in builtin_models():
        if model.regex is not None and model.regex.search(name):
            return model
    return None


def match_model(name: str | None, project_models: tuple[ModelDef, ...] = ()) -> ModelDef | None:
    """Project models first (latest start date first, undated last), then built-ins (§3.2)."""
    if not name:
        return None
    for model in project_models:
        if model.regex is not None and model.regex.search(name):
            return model
    return match_builtin(name)


def sort_project_models(models: list[ModelDef]) -> tuple[ModelDef, ...]:
    dated = sorted((m for m in models if m.start_date), key=lambda m: m.start_date or "", reverse=True)
    undated = sorted((m for m in models if not m.start_date), key=lambda m: m.created_at or "")
    return (*dated, *undated)


# ---- provided usage and cost (§4) -------------------------------------------------------------------------

_CHAT_SHAPE = ("prompt_tokens", "completion_tokens", "prompt_tokens_details", "completion_tokens_details")
_RESPONSES_SHAPE = ("input_tokens", "output_tokens", "input_tokens_details", "output_tokens_details")
_SHAPE_KEYS = frozenset(("total_tokens", *_CHAT_SHAPE, *_RESPONSES_SHAPE))


def normalize_usage(value: Any) -> dict[str, int]:
    """A provided usage map -> ``{key: count}``: OpenAI Chat/Responses shapes converted, junk dropped."""
    if not isinstance(value, dict) or not value:
        return {}
    if _SHAPE_KEYS.isdisjoint(value) and all(type(v) is int and 0 <= v <= _MAX_COUNT for v in value.values()):
        return dict(value)  # the usual case: plain counts, nothing to convert or drop
    for shape in (_CHAT_SHAPE, _RESPONSES_SHAPE):
        converted = _openai_usage(value, *shape)
        if converted is not None:
            return converted
    result: dict[str, int] = {}
    for key, raw in value.items():
        count = _count(raw)
        if count is not None:
            result[str(key)] = count
    return result


def _openai_usage(
    value: dict[str, Any], input_key: str, output_key: str, input_details: str, output_details: str
) -> dict[str, int] | None:
    """Exactly an OpenAI usage object (optional detail maps, nothing else) -> input/output/total."""
    allowed = {input_key, output_key, "total_tokens", input_details, output_details}
    if not value.keys() <= allowed or not {input_key, output_key, "total_tokens"} <= value.keys():
        return None
    counts = [_strict_int(value[k]) for k in (input_key, output_key, "total_tokens")]
    result = {name: c for name, c in zip(("input", "output", "total"), counts, strict=True) if c is not None}
    if len(result) < 3:
        return None
    for details_key, prefix in ((input_details, "input"), (output_details, "output")):
        details = value.get(details_key)
        if details is None:
            continue
        if not isinstance(details, dict):
            return None
        for key, raw in details.items():
            count = _strict_int(raw) if raw is not None else None
            if raw is not None and count is None:
                return None
            if count is not None:
                result[f"{prefix}_{key}"] = count
                result[prefix] = max(result[prefix] - count, 0)
    return result


def _strict_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    return None


_LEADING_INT = re.compile(r"^\s*([+-]?\d+)")


def _count(value: Any) -> int | None:
    """Shape (c): non-negative integers, integral floats, or strings with a leading integer (parseInt)."""
    if isinstance(value, str):
        match = _LEADING_INT.match(value)
        number = int(match.group(1)) if match else None
        return number if number is not None and 0 <= number <= _MAX_COUNT else None
    number = _strict_int(value)
    return number if number is not None and number <= _MAX_COUNT else None


def normalize_cost(value: Any) -> dict[str, float]:
    """Keep cost entries that are finite numbers >= 0."""
    if not isinstance(value, dict):
        return {}
    return {
        str(k): float(v)
        for k, v in value.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
    }


# ---- the computation (§5, §6) -----------------------------------------------------------------------------


@dataclass(slots=True)  # one per priced observation, never changed; frozen would slow every creation
class CostResult:
    usage: dict[str, int]
    cost: dict[str, float]
    total_cost: float | None
    model_id: str | None = None
    tier_id: str | None = None
    tier_name: str | None = None

    def columns(self) -> dict[str, Any]:
        """The stored observation columns."""
        return {
            "usage_details": orjson.dumps(self.usage).decode() if self.usage else None,
            "cost_details": orjson.dumps(self.cost).decode() if self.cost else None,
            "total_cost": self.total_cost,
            "model_id": self.model_id,
            "usage_pricing_tier_id": self.tier_id,
            "usage_pricing_tier_name": self.tier_name,
        }


def compute(
    usage: dict[str, int],
    cost: dict[str, float],
    model: ModelDef | None,
    model_parameters: Any = None,
    metadata: Any = None,
) -> CostResult:
    """Final usage (with ``total``), cost (client's wins) and the selected tier."""
    final_usage = dict(usage)
    if final_usage and "total" not in final_usage:
        final_usage["total"] = sum(final_usage.values())
    model_id = model.id if model else None
    tier = select_tier(model, final_usage, model_parameters, metadata) if model and final_usage else None
    tier_id, tier_name = (tier.id, tier.name) if tier else (None, None)
    if cost:
        client_cost = dict(cost)
        total = _client_total(client_cost)
        if total is not None:
            client_cost["total"] = total
        return CostResult(final_usage, client_cost, total, model_id, tier_id, tier_name)
    computed = _priced(final_usage, tier.prices) if tier else {}
    return CostResult(final_usage, computed, computed.get("total"), model_id, tier_id, tier_name)


def _client_total(cost: dict[str, float]) -> float | None:
    if "total" in cost:
        return cost["total"]
    if cost.keys() <= {"input", "output"}:
        total = cost.get("input", 0.0) + cost.get("output", 0.0)
        return total if math.isfinite(total) else None
    return None


def _priced(usage: dict[str, int], prices: dict[str, float]) -> dict[str, float]:
    """Each usage key with a price of exactly that name; total = its own price or the sum."""
    cost = {key: float(_decimal(prices[key]) * units) for key, units in usage.items() if key in prices}
    if cost and "total" not in cost:
        cost["total"] = sum(cost.values())
    return cost


@functools.lru_cache(maxsize=4096)
def _decimal(price: float) -> Decimal:
    try:
        return Decimal(repr(price))
    except InvalidOperation:
        return Decimal(0)


def select_tier(model: ModelDef, usage: dict[str, int], model_parameters: Any, metadata: Any) -> Tier | None:
    """First non-default tier (by priority) whose conditions all hold, else the default tier."""
    parsed: dict[str, dict[str, str]] = {}  # each attribute source parsed on first use, at most once
    for tier in model.conditional_tiers:
        if not tier.conditions:
            continue
        for condition in tier.conditions:
            if not _holds(condition, usage, parsed, model_parameters, metadata):
                break
        else:
            return tier
    return model.default_tier


def _holds(
    condition: dict[str, Any],
    usage: dict[str, int],
    parsed: dict[str, dict[str, str]],
    model_parameters: Any,
    metadata: Any,
) -> bool:
    if "usageDetailPattern" in condition:
        return _usage_holds(condition, usage)
    source = str(condition.get("source", ""))
    attributes = parsed.get(source)
    if attributes is None:
        raw = {"model_parameters": model_parameters, "metadata": metadata}.get(source)
        attributes = parsed[source] = _attribute_map(raw) if raw else {}
    value = attributes.get(str(condition.get("key")))
    return value is not None and value in (condition.get("values") or ())


@functools.lru_cache(maxsize=256)
def _condition_regex(pattern: str, case_sensitive: bool) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, 0 if case_sensitive else re.IGNORECASE)
    except (re.error, TypeError):
        return None


def _usage_holds(condition: dict[str, Any], usage: dict[str, int]) -> bool:
    regex = _condition_regex(str(condition["usageDetailPattern"]), bool(condition.get("caseSensitive")))
    compare = _OPERATORS.get(str(condition.get("operator")))
    value = condition.get("value")
    if regex is None or compare is None or not isinstance(value, int | float):
        return False
    return bool(compare(sum(v for k, v in usage.items() if regex.search(k)), value))


def _attribute_map(source: Any) -> dict[str, str]:
    """Top-level scalar entries as JavaScript would print them (``true``, ``1``, ``0.5``)."""
    if isinstance(source, str):
        try:
            source = orjson.loads(source)
        except orjson.JSONDecodeError:
            return {}
    if not isinstance(source, dict):
        return {}
    return {str(k): _js_string(v) for k, v in source.items() if isinstance(v, str | int | float)}


def _js_string(value: str | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
