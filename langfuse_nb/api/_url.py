"""URL pieces of the REST endpoints, free of pydantic and httpx (the light prompt fetch uses them too)."""

from __future__ import annotations

import enum
import urllib.parse
from typing import Any

# GET one prompt version; the one template both `api.prompts.get` and the light fetch (`_light`) fill.
PROMPT_PATH = "api/public/v2/prompts/{}"


def path(template: str, *segments: Any) -> str:
    """Fill ``{}`` placeholders with percent-encoded segments (``/`` and spaces too: names may hold them)."""
    return template.format(*(urllib.parse.quote(str(scalar(s)), safe="") for s in segments))


def scalar(value: Any) -> Any:
    """An enum's value, anything else unchanged."""
    return value.value if isinstance(value, enum.Enum) else value


__all__ = ["PROMPT_PATH", "path", "scalar"]
