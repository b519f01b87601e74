"""Value rules shared by the OTel mapping modules: JavaScript-like truthiness, numbers and JSON text."""

from __future__ import annotations

import math
from typing import Any

import orjson


def meaningful(value: Any) -> bool:
    return value is not None and value != "" and not (isinstance(value, list | dict) and not value)


def truthy(value: Any) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    return bool(value) or isinstance(value, list | dict)


def json_text(value: Any) -> str:
    """Compact JSON as JavaScript writes it (integral floats without ``.0``)."""
    return orjson.dumps(_js_numbers(value)).decode()


def _js_numbers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _js_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_js_numbers(v) for v in value]
    return value


def stringify(value: Any) -> str:
    return value if isinstance(value, str) else json_text(value)


def decode(value: Any) -> Any:
    """JSON-decode a string when it parses; anything else unchanged."""
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def js_number(value: Any) -> float | None:
    """JavaScript ``Number()``: bools 1/0, numeric strings, one-element lists; NaN -> None."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return None if isinstance(value, float) and math.isnan(value) else value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0
        try:
            number = float(text)
        except ValueError:
            return None
        return None if math.isnan(number) else number
    if isinstance(value, list) and len(value) <= 1:
        return js_number(value[0]) if value else 0
    return None
