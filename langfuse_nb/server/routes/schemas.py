"""JSON Schema for datasets: the shape check of a schema, and checking a value against one.

Langfuse stores an input and an expected-output JSON Schema per dataset and refuses items that do not match.
This covers the keywords dataset schemas use (type, enum, const, properties, required, additionalProperties,
items, length and range bounds, anyOf/oneOf/allOf); other keywords are accepted and not enforced.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

JSON_TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})


def schema_problem(schema: Any, where: str) -> str | None:
    """What makes ``schema`` no JSON Schema (the object shape, type, properties, items, required), or None."""
    if isinstance(schema, bool):
        return None  # true/false are valid (sub)schemas
    if not isinstance(schema, dict):
        return f"{where} must be an object, got {type(schema).__name__}"
    kinds = schema.get("type", "object")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if not kinds or not all(isinstance(k, str) and k in JSON_TYPES for k in kinds):
        return f"{where}.type must be one of {sorted(JSON_TYPES)} (or a list of them)"
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        return f"{where}.required must be a list of property names"
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        return f"{where}.properties must be an object"
    children = [(v, f"{where}.properties.{k}") for k, v in properties.items()]
    if "items" in schema:
        children.append((schema["items"], f"{where}.items"))
    return next((p for child, at in children if (p := schema_problem(child, at))), None)


def _is_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            or (isinstance(value, float) and value.is_integer())
        )
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    expected = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}[kind]
    return isinstance(value, expected)


def mismatch(value: Any, schema: Any, where: str = "$") -> str | None:
    """The first way ``value`` does not match ``schema`` (a readable path and reason), or None."""
    if schema is False:
        return f"{where}: no value is allowed here"
    if not isinstance(schema, dict):
        return None  # true (anything goes), or not a schema at all
    for check in _CHECKS:
        problem = check(value, schema, where)
        if problem:
            return problem
    return None


def _check_type(value: Any, schema: dict[str, Any], where: str) -> str | None:
    kinds = schema.get("type")
    if kinds is None:
        return None
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if any(_is_type(value, kind) for kind in kinds if kind in JSON_TYPES):
        return None
    return f"{where}: expected {' or '.join(kinds)}, got {_type_name(value)}"


def _check_values(value: Any, schema: dict[str, Any], where: str) -> str | None:
    if "enum" in schema and value not in schema["enum"]:
        return f"{where}: must be one of {schema['enum']}"
    if "const" in schema and value != schema["const"]:
        return f"{where}: must be {schema['const']!r}"
    return None


def _measures(value: Any) -> dict[str, float]:
    if isinstance(value, str):
        return {"minLength": len(value), "maxLength": len(value)}
    if isinstance(value, list):
        return {"minItems": len(value), "maxItems": len(value)}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"minimum": value, "maximum": value}
    return {}


def _check_bounds(value: Any, schema: dict[str, Any], where: str) -> str | None:
    for keyword, measured in _measures(value).items():
        bound = schema.get(keyword)
        if not isinstance(bound, int | float) or isinstance(bound, bool):
            continue
        if measured < bound if keyword.startswith("min") else measured > bound:
            return f"{where}: violates {keyword} {bound}"
    return None


def _check_object(value: Any, schema: dict[str, Any], where: str) -> str | None:
    if not isinstance(value, dict):
        return None
    missing = [key for key in schema.get("required", []) if key not in value]
    if missing:
        return f"{where}: missing required {missing}"
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        sub = properties.get(key, extra)
        if sub is False:
            return f"{where}: property {key!r} is not allowed"
        problem = mismatch(item, sub, f"{where}.{key}")
        if problem:
            return problem
    return None


def _check_array(value: Any, schema: dict[str, Any], where: str) -> str | None:
    items = schema.get("items")
    if not isinstance(value, list) or not isinstance(items, dict | bool):
        return None
    return next((p for i, item in enumerate(value) if (p := mismatch(item, items, f"{where}[{i}]"))), None)


def _check_combinators(value: Any, schema: dict[str, Any], where: str) -> str | None:
    for sub in schema.get("allOf", []):
        problem = mismatch(value, sub, where)
        if problem:
            return problem
    for keyword in ("anyOf", "oneOf"):
        options = schema.get(keyword)
        if isinstance(options, list) and options and all(mismatch(value, o, where) for o in options):
            return f"{where}: matches none of the {keyword} alternatives"
    return None


def _type_name(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


_CHECKS: tuple[Callable[[Any, dict[str, Any], str], str | None], ...] = (
    _check_type,
    _check_values,
    _check_bounds,
    _check_object,
    _check_array,
    _check_combinators,
)
