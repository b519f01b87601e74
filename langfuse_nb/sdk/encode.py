"""Pure encoding of observation, trace and propagation values into OTel span attributes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langfuse_nb.sdk.serialize import dumps
from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A

AttributeValue = str | bool | int | float | list[str]
GENERATION_LIKE = frozenset({"generation", "embedding"})


_SCALAR_TYPES = frozenset({int, float, bool, type(None)})


def may_hold_media(value: Any, budget: int = 64) -> bool:
    """Cheap pre-check: media lives in ``data:`` URIs, media objects or containers holding them.

    Scalars and small containers of them need no media walk; anything unknown, deep or large
    (more than ``budget`` items looked at) is handed to the media manager.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        cls = type(item)
        if cls is str:
            if item.startswith("data:"):
                return True
        elif cls in _SCALAR_TYPES:
            continue
        elif cls is dict or cls is list or cls is tuple:
            budget -= len(item)
            if budget < 0:
                return True
            pending.extend(item.values() if cls is dict else item)
        else:
            return True
    return False


def encode_value(value: Any) -> str | None:
    """K1: strings raw, everything else JSON (None stays None)."""
    if value is None:
        return None
    if type(value) is str:
        return value
    return dumps(value)


def encode_metadata(out: dict[str, Any], prefix: str, metadata: Any) -> None:
    """K2: a dict becomes one attribute per top-level key; anything else one attribute."""
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        out[prefix] = encode_value(metadata)
        return
    for key, value in metadata.items():
        if value is None:
            continue
        if isinstance(value, (str, int)) and (type(value) is not int or -(2**63) <= value < 2**63):
            out[f"{prefix}.{key}"] = value
        else:
            out[f"{prefix}.{key}"] = dumps(value)


def encode_observation(params: Mapping[str, Any], *, generation_like: bool) -> dict[str, Any]:
    """Attributes for the observation fields present (non-None) in ``params``."""
    out: dict[str, Any] = {}
    get = params.get
    for key, attr in _SPAN_TEXT:
        value = get(key)
        if value is not None:
            out[attr] = value if type(value) is str else encode_value(value)
    encode_metadata(out, A.OBSERVATION_METADATA, get("metadata"))
    if generation_like:
        _encode_generation(out, params)
    return out


def _encode_generation(out: dict[str, Any], params: Mapping[str, Any]) -> None:
    get = params.get
    if get("model") is not None:
        out[A.OBSERVATION_MODEL] = str(get("model"))
    for key, attr in _GENERATION_JSON:
        value = get(key)
        if value is not None:
            out[attr] = dumps(value)  # K3: completion_start_time arrives as a quoted ISO string
    prompt = get("prompt")
    if prompt is not None and not getattr(prompt, "is_fallback", False):
        name, version = getattr(prompt, "name", None), getattr(prompt, "version", None)
        if name is not None:
            out[A.OBSERVATION_PROMPT_NAME] = str(name)
        if version is not None:
            out[A.OBSERVATION_PROMPT_VERSION] = int(version)


def encode_trace(params: Mapping[str, Any]) -> dict[str, Any]:
    """Trace-level attributes written onto the calling span (``update_trace``)."""
    out: dict[str, Any] = {}
    get = params.get
    for key, attr in _TRACE_TEXT:
        value = get(key)
        if value is not None:
            out[attr] = value if type(value) is str else encode_value(value)
    tags = get("tags")
    if tags is not None:
        out[A.TRACE_TAGS] = [str(t) for t in tags]
    if get("public") is not None:
        out[A.TRACE_PUBLIC] = bool(get("public"))
    encode_metadata(out, A.TRACE_METADATA, get("metadata"))
    return out


_SPAN_TEXT = (
    ("input", A.OBSERVATION_INPUT),
    ("output", A.OBSERVATION_OUTPUT),
    ("version", A.VERSION),
    ("level", A.OBSERVATION_LEVEL),
    ("status_message", A.OBSERVATION_STATUS_MESSAGE),
)
_GENERATION_JSON = (
    ("completion_start_time", A.OBSERVATION_COMPLETION_START_TIME),
    ("model_parameters", A.OBSERVATION_MODEL_PARAMETERS),
    ("usage_details", A.OBSERVATION_USAGE_DETAILS),
    ("cost_details", A.OBSERVATION_COST_DETAILS),
)
_TRACE_TEXT = (
    ("name", A.TRACE_NAME),
    ("user_id", A.TRACE_USER_ID),
    ("session_id", A.TRACE_SESSION_ID),
    ("version", A.VERSION),
    ("input", A.TRACE_INPUT),
    ("output", A.TRACE_OUTPUT),
)
