"""Pure encoding of observation, trace and propagation values into OTel span attributes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from langfuse_nb.sdk.serialize import dumps
from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A

AttributeValue = str | bool | int | float | list[str]
GENERATION_LIKE = frozenset({"generation", "embedding"})


_SCALAR_TYPES = frozenset({int, float, bool, type(None)})
_MEDIA_BLOCK_TYPES = frozenset({"base64", "media"})


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
        elif cls is dict and type(kind := item.get("type")) is str and kind in _MEDIA_BLOCK_TYPES:
            # Anthropic ("base64") / Vertex ("media") content blocks carry raw base64; other "type"
            # values may be anything (JSON schemas use lists: {"type": ["string", "null"]})
            return True
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
    table = _GENERATION_FIELDS if generation_like else _OBSERVATION_FIELDS
    return _encode(params, table)


def encode_trace(params: Mapping[str, Any]) -> dict[str, Any]:
    """Trace-level attributes written onto the calling span (``update_trace``)."""
    return _encode(params, _TRACE_FIELDS)


Encoder = Callable[[dict[str, Any], str, Any], None]


def _encode(params: Mapping[str, Any], table: Mapping[str, tuple[str, Encoder]]) -> dict[str, Any]:
    """Walk only the fields given; unknown keys (and fields of other types) are ignored."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is not None:
            spec = table.get(key)
            if spec is not None:
                spec[1](out, spec[0], value)
    return out


def _text(out: dict[str, Any], attr: str, value: Any) -> None:
    out[attr] = value if type(value) is str else encode_value(value)


def _json(out: dict[str, Any], attr: str, value: Any) -> None:
    out[attr] = dumps(value)  # K3: completion_start_time arrives as a quoted ISO string


def _str(out: dict[str, Any], attr: str, value: Any) -> None:
    out[attr] = str(value)


def _tags(out: dict[str, Any], attr: str, value: Any) -> None:
    out[attr] = [str(t) for t in value]


def _bool(out: dict[str, Any], attr: str, value: Any) -> None:
    out[attr] = bool(value)


def _prompt(out: dict[str, Any], attr: str, prompt: Any) -> None:
    """Link a prompt client (``name``/``version``), unless it is a fallback."""
    if getattr(prompt, "is_fallback", False):
        return
    name, version = getattr(prompt, "name", None), getattr(prompt, "version", None)
    if name is not None:
        out[A.OBSERVATION_PROMPT_NAME] = str(name)
    if version is not None:
        out[A.OBSERVATION_PROMPT_VERSION] = int(version)


# field name -> (attribute key, encoder): one table per kind of target
_OBSERVATION_FIELDS: dict[str, tuple[str, Encoder]] = {
    "input": (A.OBSERVATION_INPUT, _text),
    "output": (A.OBSERVATION_OUTPUT, _text),
    "version": (A.VERSION, _text),
    "level": (A.OBSERVATION_LEVEL, _text),
    "status_message": (A.OBSERVATION_STATUS_MESSAGE, _text),
    "metadata": (A.OBSERVATION_METADATA, encode_metadata),
}
_GENERATION_FIELDS: dict[str, tuple[str, Encoder]] = {
    **_OBSERVATION_FIELDS,
    "model": (A.OBSERVATION_MODEL, _str),
    "completion_start_time": (A.OBSERVATION_COMPLETION_START_TIME, _json),
    "model_parameters": (A.OBSERVATION_MODEL_PARAMETERS, _json),
    "usage_details": (A.OBSERVATION_USAGE_DETAILS, _json),
    "cost_details": (A.OBSERVATION_COST_DETAILS, _json),
    "prompt": (A.OBSERVATION_PROMPT_NAME, _prompt),
}
_TRACE_FIELDS: dict[str, tuple[str, Encoder]] = {
    "name": (A.TRACE_NAME, _text),
    "user_id": (A.TRACE_USER_ID, _text),
    "session_id": (A.TRACE_SESSION_ID, _text),
    "version": (A.VERSION, _text),
    "input": (A.TRACE_INPUT, _text),
    "output": (A.TRACE_OUTPUT, _text),
    "tags": (A.TRACE_TAGS, _tags),
    "public": (A.TRACE_PUBLIC, _bool),
    "metadata": (A.TRACE_METADATA, encode_metadata),
}
