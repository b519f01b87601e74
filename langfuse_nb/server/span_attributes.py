"""Reading typed values out of one span's attributes: metadata, level, environment, tags and the like.

The per-field rules of otel-ingestion-mapping.md, each a small pure function over the attribute dict;
``spans.py`` assembles them into rows. Attribute names repeat from span to span, so what can be decided
from the names alone is decided once per distinct set of names (``plan``).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import orjson

from langfuse_nb.server.values import dumps, parse_iso
from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A

OBS_META = "langfuse.observation.metadata"
TRACE_META = "langfuse.trace.metadata"
_OBS_META_DOT, _TRACE_META_DOT = OBS_META + ".", TRACE_META + "."
_OBS_CUT, _TRACE_CUT = len(_OBS_META_DOT), len(_TRACE_META_DOT)
# attributes that update the trace when a non-root span carries them (server-ingestion.md §2.2)
TRACE_UPDATE_KEYS = frozenset(
    {
        A.TRACE_NAME,
        A.TRACE_INPUT,
        A.TRACE_OUTPUT,
        A.TRACE_METADATA,
        A.TRACE_PUBLIC,
        A.TRACE_TAGS,
        A.TRACE_USER_ID,
        A.TRACE_SESSION_ID,
        "langfuse.user.id",
        "langfuse.session.id",
        f"{OBS_META}.langfuse_user_id",
        f"{OBS_META}.langfuse_session_id",
        f"{OBS_META}.langfuse_tags",
        f"{TRACE_META}.langfuse_user_id",
        f"{TRACE_META}.langfuse_session_id",
        f"{TRACE_META}.langfuse_tags",
        "ai.telemetry.metadata.sessionId",
        "ai.telemetry.metadata.userId",
        "ai.telemetry.metadata.tags",
        "tag.tags",
    }
)
_WHOLE_META_KEYS = frozenset({"langfuse.metadata", OBS_META, TRACE_META})
_OTHER, _OBS_KEY, _TRACE_KEY, _SHARED_KEY = range(4)


MODEL_KEYS = (
    A.OBSERVATION_MODEL,
    "gen_ai.response.model",
    "ai.model.id",
    "gen_ai.request.model",
    "llm.response.model",
    "llm.model_name",
    "model",
)
USER_KEYS = (
    "langfuse.user.id",
    A.TRACE_USER_ID,
    f"{OBS_META}.langfuse_user_id",
    f"{TRACE_META}.langfuse_user_id",
    "ai.telemetry.metadata.userId",
)
SESSION_KEYS = (
    "langfuse.session.id",
    A.TRACE_SESSION_ID,
    "gen_ai.conversation.id",
    f"{OBS_META}.langfuse_session_id",
    f"{TRACE_META}.langfuse_session_id",
    "ai.telemetry.metadata.sessionId",
)
# the attributes that can name an observation instead of its span (spans.observation_name)
NAME_KEYSET = frozenset({"gen_ai.tool.name", "logfire.msg", "ai.toolCall.name", "ai.operationId"})
_MODEL_DETAIL_KEYSET = frozenset(
    {
        A.OBSERVATION_MODEL_PARAMETERS,
        A.OBSERVATION_COMPLETION_START_TIME,
        A.OBSERVATION_PROMPT_NAME,
        "langfuse.prompt.name",
        A.OBSERVATION_PROMPT_VERSION,
        "langfuse.prompt.version",
    }
)


class KeyPlan:
    """What the attribute names of a span decide, before any value is looked at."""

    __slots__ = (
        "meta",
        "whole_meta",
        "trace_keys",
        "trace_prefixed",
        "flagged",
        "environment",
        "model_keys",
        "user_keys",
        "session_keys",
        "tags",
        "public",
        "experiment",
        "named",
        "as_root",
        "declared",
        "level",
        "status_message",
        "version",
        "release",
        "trace_name",
        "trace_io",
        "model_details",
        "usage",
    )

    def __init__(self, keys: tuple[str, ...]) -> None:
        kinds = [(key, *_classify(key)) for key in keys]
        self.meta = tuple(item for item in kinds if item[1] != _OTHER)  # (key, kind, short name)
        self.whole_meta = not _WHOLE_META_KEYS.isdisjoint(keys)
        self.trace_keys = tuple(TRACE_UPDATE_KEYS.intersection(keys))  # these count only when truthy
        self.trace_prefixed = any(key.startswith(TRACE_META) for key in keys)
        self.flagged = TRACE_META in keys or any(kind == _TRACE_KEY for _, kind, _ in self.meta)
        self.environment = not _ENV_KEYSET.isdisjoint(keys)  # else the resource's environment holds
        # the candidates of the first-truthy-value rules that the span has, in the rules' order
        self.model_keys = tuple(key for key in MODEL_KEYS if key in keys)
        self.user_keys = tuple(key for key in USER_KEYS if key in keys)
        self.session_keys = tuple(key for key in SESSION_KEYS if key in keys)
        self.tags = not _TAG_KEYSET.isdisjoint(keys)
        self.public = not _PUBLIC_KEYSET.isdisjoint(keys)
        self.experiment = not _EXPERIMENT_KEYSET.isdisjoint(keys)
        self.named = not NAME_KEYSET.isdisjoint(keys)  # else the span's own name is the observation's
        # a span without these names gets the defaults of the rules that read them, without a lookup
        self.as_root = A.AS_ROOT in keys
        self.declared = A.OBSERVATION_TYPE in keys
        self.level = A.OBSERVATION_LEVEL in keys
        self.status_message = A.OBSERVATION_STATUS_MESSAGE in keys
        self.version = A.VERSION in keys
        self.release = A.RELEASE in keys
        self.trace_name = A.TRACE_NAME in keys
        self.trace_io = A.TRACE_INPUT in keys or A.TRACE_OUTPUT in keys
        self.model_details = not _MODEL_DETAIL_KEYSET.isdisjoint(keys)
        self.usage = A.OBSERVATION_USAGE_DETAILS in keys or A.OBSERVATION_COST_DETAILS in keys


_PLANS: dict[tuple[str, ...], KeyPlan] = {}
_PLANS_MAX = 4096  # bounded: third-party spans may number their keys (gen_ai.prompt.17.content)


def plan(attrs: dict[str, Any]) -> KeyPlan:
    keys = tuple(attrs)
    found = _PLANS.get(keys)
    if found is None:
        found = KeyPlan(keys)
        if len(_PLANS) < _PLANS_MAX:
            _PLANS[keys] = found
    return found


def _classify(key: str) -> tuple[int, str]:
    if key.startswith(_OBS_META_DOT):
        return _OBS_KEY, key[_OBS_CUT:]
    if key.startswith(_TRACE_META_DOT):
        return _TRACE_KEY, key[_TRACE_CUT:]
    if key.startswith("langfuse.metadata."):
        return _SHARED_KEY, key[18:]
    return _OTHER, ""


def has_trace_updates(attrs: dict[str, Any], keys: KeyPlan | None = None) -> bool:
    """Whether a span says anything about its trace (a truthy trace attribute, or trace metadata)."""
    keys = keys or plan(attrs)
    if keys.trace_prefixed:
        return True
    for key in keys.trace_keys:  # noqa: SIM110 (a generator per span cost more than this test itself)
        if attrs[key]:
            return True
    return False


def split_metadata(
    attrs: dict[str, Any], keys: KeyPlan | None = None
) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """(observation metadata, trace metadata, any trace-metadata key seen), from one span's attributes."""
    keys = keys or plan(attrs)
    if keys.whole_meta:
        shared = whole_metadata(attrs.get("langfuse.metadata"))
        obs = {**shared, **whole_metadata(attrs.get(OBS_META))}
        trace = {**shared, **whole_metadata(attrs.get(TRACE_META))}
    else:  # the usual case: only flattened keys, if any
        obs, trace = {}, {}
    for key, kind, short in keys.meta:
        value = maybe_json(attrs[key])
        if kind == _OBS_KEY:
            obs[short] = value
        elif kind == _TRACE_KEY:
            trace[short] = value
        else:
            obs[short] = trace[short] = value
    return obs, trace, keys.flagged


def extract_metadata(attrs: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Metadata under one prefix: the whole-object attribute, then flattened ``<prefix>.<key>`` keys."""
    result = whole_metadata(attrs.get("langfuse.metadata"))
    result.update(whole_metadata(attrs.get(prefix)))
    dotted = prefix + "."
    for key, value in attrs.items():
        if key.startswith(dotted):
            result[key[len(dotted) :]] = maybe_json(value)
        elif key.startswith("langfuse.metadata."):
            result[key[18:]] = maybe_json(value)
    return result


def whole_metadata(value: Any) -> dict[str, Any]:
    """A whole-object metadata attribute: JSON object spread, array spread by index, plain text dropped."""
    if value is None:
        return {}
    parsed = maybe_json(value) if isinstance(value, str) else value
    if isinstance(parsed, dict):
        return dict(parsed)
    if isinstance(parsed, list):
        return {str(i): v for i, v in enumerate(parsed)}
    return {}


# ---- small decoders ---------------------------------------------------------------------------------------

_KEYSETS: dict[tuple[str, ...], frozenset[str]] = {}


def first_present(attrs: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """First truthy value among ``keys``, all of which the span has (``KeyPlan``'s candidate tuples)."""
    for key in keys:
        value = attrs[key]
        if value:
            return value
    return None


def first(attrs: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """First truthy value among ``keys``; a C-level disjointness check skips the usual all-miss case."""
    keyset = _KEYSETS.get(keys)
    if keyset is None:
        keyset = _KEYSETS[keys] = frozenset(keys)
    if keyset.isdisjoint(attrs):
        return None
    for key in keys:
        value = attrs.get(key)
        if value:
            return value
    return None


def maybe_json(value: Any) -> Any:
    """Metadata values are JSON-decoded when they are JSON text (as upstream returns them)."""
    if isinstance(value, str) and value and value[0] in '[{"-0123456789tfn':
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def json_object(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):
        value = maybe_json(value)
    return value if isinstance(value, dict) else None


def str_or_none(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def stringify(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else dumps(value)


def io_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return dumps(value)


_LEVEL_ALIASES = {
    **dict.fromkeys(("DEBUG", "TRACE", "VERBOSE"), "DEBUG"),
    **dict.fromkeys(("DEFAULT", "INFO", "LOG", "NOTICE", "OK", "SUCCESS"), "DEFAULT"),
    **dict.fromkeys(("WARNING", "WARN"), "WARNING"),
    **dict.fromkeys(("ERROR", "FATAL", "CRITICAL"), "ERROR"),
}
# LiveKit's bookkeeping spans are DEBUG unless they say otherwise (otel-ingestion-mapping.md row LK2)
_LIVEKIT_DEBUG = frozenset(
    [
        "user_speaking",
        "eou_detection",
        "llm_request_run",
        "tts_node",
        "tts_request",
        "tts_request_run",
        "tts_stream_adapter",
        "agent_speaking",
        "drain_agent_activity",
        "on_exit",
        "on_enter",
        "llm_fallback_adapter",
        "tts_fallback_adapter",
        "start_agent_activity",
    ]
)


def level(attrs: dict[str, Any], status_code: int, scope_name: str = "", span_name: str = "") -> str:
    value = attrs.get(A.OBSERVATION_LEVEL)
    if isinstance(value, str):
        mapped = _LEVEL_ALIASES.get(value.strip().upper())
        if mapped is not None:
            return mapped
    if status_code == 2:
        return "ERROR"
    return "DEBUG" if scope_name == "livekit-agents" and span_name in _LIVEKIT_DEBUG else "DEFAULT"


_ENV_KEYS = (A.ENVIRONMENT, "deployment.environment.name", "deployment.environment")
_ENV_KEYSET = frozenset(_ENV_KEYS)


def environment(attrs: dict[str, Any], resource: dict[str, Any]) -> str:
    """Per key, the span attribute before the resource's; the first truthy value decides (§7.2)."""
    for key in _ENV_KEYS:
        value = attrs.get(key) or resource.get(key)
        if value:
            return normalize_environment(value) if isinstance(value, str) else "default"
    return "default"


_ENV_PREFIX = re.compile(r"^(?:langfuse[-_]?)+")
_ENV_VALID = re.compile(r"^[a-z0-9_-]+$")


@functools.lru_cache(maxsize=1024)
def normalize_environment(value: str) -> str:
    """Lower case, leading ``langfuse`` prefixes removed, 40 characters of ``[a-z0-9_-]``, else default."""
    name = _ENV_PREFIX.sub("", value.lower())[:40]
    return name if _ENV_VALID.match(name) else "default"


_TAG_KEYS = (
    A.TRACE_TAGS,
    "langfuse.tags",
    f"{OBS_META}.langfuse_tags",
    f"{TRACE_META}.langfuse_tags",
    "ai.telemetry.metadata.tags",
    "tag.tags",
)
_TAG_KEYSET = frozenset(_TAG_KEYS)


def tags(attrs: dict[str, Any]) -> list[str] | None:
    if _TAG_KEYSET.isdisjoint(attrs):
        return None
    for key in _TAG_KEYS:
        value = attrs.get(key)
        if value is None:
            continue
        if isinstance(value, list):
            return [str(v) for v in value]
        if isinstance(value, str):
            if value.startswith("["):
                parsed = maybe_json(value)
                if isinstance(parsed, list):
                    return [str(v) for v in parsed]
            return [part.strip() for part in value.split(",") if part.strip()] if "," in value else [value]
    return None


_PUBLIC_KEYS = (A.TRACE_PUBLIC, "langfuse.public")
_PUBLIC_KEYSET = frozenset(_PUBLIC_KEYS)


def public(attrs: dict[str, Any]) -> bool | None:
    for key in _PUBLIC_KEYS:
        if key in attrs:
            return attrs[key] in (True, "true")
    return None


def completion_start(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    for candidate in (value, maybe_json(value)):
        try:
            return parse_iso(candidate)
        except (ValueError, TypeError):
            continue
    return None


def model_parameters(value: Any) -> str | None:
    parsed = json_object(value)
    if not parsed:
        return None
    return dumps(
        {
            k: v if isinstance(v, str | int | float) and not isinstance(v, bool) else dumps(v)
            for k, v in parsed.items()
        }
    )


_EXPERIMENT_FIELDS = {
    A.EXPERIMENT_ID: "experimentId",
    A.EXPERIMENT_NAME: "experimentName",
    A.EXPERIMENT_DESCRIPTION: "experimentDescription",
    A.EXPERIMENT_DATASET_ID: "experimentDatasetId",
    A.EXPERIMENT_ITEM_ID: "experimentItemId",
    "langfuse.experiment.item.version": "experimentItemVersion",
    A.EXPERIMENT_ITEM_ROOT_OBSERVATION_ID: "experimentItemRootSpanId",
    A.EXPERIMENT_ITEM_EXPECTED_OUTPUT: "experimentItemExpectedOutput",
    A.EXPERIMENT_METADATA: "experimentMetadata",
    A.EXPERIMENT_ITEM_METADATA: "experimentItemMetadata",
}
_EXPERIMENT_KEYSET = frozenset(_EXPERIMENT_FIELDS)


def experiment(attrs: dict[str, Any]) -> str | None:
    if _EXPERIMENT_KEYSET.isdisjoint(attrs):
        return None
    found = {field: attrs[key] for key, field in _EXPERIMENT_FIELDS.items() if key in attrs}
    return dumps(found) if found else None
