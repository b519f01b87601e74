"""Pure mapping of decoded spans to observation rows and trace updates (see server-ingestion.md §2)."""

from __future__ import annotations

import functools
import math
import re
import time
from typing import Any

import orjson

from langfuse_nb.server import otel_io
from langfuse_nb.server import otel_mapping as mapping
from langfuse_nb.server.costs import normalize_cost, normalize_usage
from langfuse_nb.server.errors import BadRequest
from langfuse_nb.server.otlp import ScopeSpans, SpanRecord
from langfuse_nb.server.values import dumps, ns_to_iso, pack_io, parse_iso, second_prefix
from langfuse_nb.wire.attributes import SDK_SCOPE_NAME
from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A

OBSERVATION_TYPES = frozenset(
    {
        "SPAN",
        "GENERATION",
        "EVENT",
        "AGENT",
        "TOOL",
        "CHAIN",
        "RETRIEVER",
        "EVALUATOR",
        "EMBEDDING",
        "GUARDRAIL",
    }
)
LEVELS = frozenset({"DEBUG", "DEFAULT", "WARNING", "ERROR"})
_OBS_META = "langfuse.observation.metadata"
_MAX_NS = 253_402_300_800 * 1_000_000_000  # 10000-01-01T00:00:00Z
_TRACE_META = "langfuse.trace.metadata"
_MODEL_KEYS = (
    A.OBSERVATION_MODEL,
    "gen_ai.response.model",
    "ai.model.id",
    "gen_ai.request.model",
    "llm.response.model",
    "llm.model_name",
    "model",
)
_USER_KEYS = (
    "langfuse.user.id",
    A.TRACE_USER_ID,
    f"{_OBS_META}.langfuse_user_id",
    f"{_TRACE_META}.langfuse_user_id",
    "ai.telemetry.metadata.userId",
)
_SESSION_KEYS = (
    "langfuse.session.id",
    A.TRACE_SESSION_ID,
    "gen_ai.conversation.id",
    f"{_OBS_META}.langfuse_session_id",
    f"{_TRACE_META}.langfuse_session_id",
    "ai.telemetry.metadata.sessionId",
)
_TAG_KEYS = (
    A.TRACE_TAGS,
    "langfuse.tags",
    f"{_OBS_META}.langfuse_tags",
    f"{_TRACE_META}.langfuse_tags",
    "ai.telemetry.metadata.tags",
    "tag.tags",
)
_TRACE_UPDATE_KEYS = (
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
    f"{_OBS_META}.langfuse_user_id",
    f"{_OBS_META}.langfuse_session_id",
    f"{_OBS_META}.langfuse_tags",
    f"{_TRACE_META}.langfuse_user_id",
    f"{_TRACE_META}.langfuse_session_id",
    f"{_TRACE_META}.langfuse_tags",
    "ai.telemetry.metadata.sessionId",
    "ai.telemetry.metadata.userId",
    "ai.telemetry.metadata.tags",
    "tag.tags",
)
_TRACE_UPDATE_KEY_SET = frozenset(_TRACE_UPDATE_KEYS)
_OBS_META_DOT, _TRACE_META_DOT = _OBS_META + ".", _TRACE_META + "."
_OBS_CUT, _TRACE_CUT = len(_OBS_META_DOT), len(_TRACE_META_DOT)
_ENV_KEYS = (A.ENVIRONMENT, "deployment.environment.name", "deployment.environment")
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


def map_groups(groups: list[ScopeSpans]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """All spans of a request -> (observation rows, trace updates)."""
    observations: list[dict[str, Any]] = []
    traces: list[dict[str, Any]] = []
    for group in groups:
        context = _GroupContext(group)
        for span in group.spans:
            observation, trace = map_span(span, context)
            observations.append(observation)
            traces.append(trace)
    return observations, traces


class _GroupContext:
    """What every span of one resource/scope group shares, computed once."""

    __slots__ = (
        "resource",
        "scope",
        "is_sdk",
        "resource_meta",
        "resource_version",
        "resource_release",
        "resource_key",
        "scope_key",
        "scope_name",
    )

    def __init__(self, group: ScopeSpans) -> None:
        self.resource = group.resource
        self.scope = group.scope
        self.scope_name = str(group.scope.get("name") or "")
        # Langfuse SDKs (scope "langfuse-sdk", also versioned variants) map only langfuse.* attributes
        self.is_sdk = self.scope_name.startswith(SDK_SCOPE_NAME)
        self.resource_meta = extract_metadata(group.resource, _TRACE_META)
        self.resource_version = group.resource.get("service.version")
        self.resource_release = group.resource.get(A.RELEASE)
        # stored once per distinct value (resources table), referenced by observations
        self.resource_key = dumps(group.resource)
        self.scope_key = dumps(group.scope)


def _ns_to_iso_us(ns: int) -> str:
    """OTLP nanoseconds -> the stored ISO form keeping microseconds (sub-ms durations stay visible)."""
    seconds, rest = divmod(int(ns), 1_000_000_000)
    return f"{second_prefix(seconds)}.{rest // 1000:06d}Z"  # whole seconds formatted once (cached)


def map_span(span: SpanRecord, ctx: _GroupContext) -> tuple[dict[str, Any], dict[str, Any]]:
    attrs = span.attributes
    start_ns = span.start_ns or span.end_ns or time.time_ns()  # neither given: "now" (spec §2)
    end_ns = max(span.end_ns or start_ns, start_ns)  # an end before the start is clamped to it
    if start_ns < 0 or end_ns >= _MAX_NS:
        # beyond year 9999 the ISO text is not a datetime any client can parse (and sorts wrongly)
        raise BadRequest(f"span {span.name!r} has a start or end time outside years 1970-9999")
    start = _ns_to_iso_us(start_ns) if start_ns else None
    end = start if end_ns == start_ns else (_ns_to_iso_us(end_ns) if end_ns else None)
    as_root = attrs.get(A.AS_ROOT) in (True, "true")
    obs_meta, trace_meta, trace_flagged = split_metadata(attrs)
    metadata = {**ctx.resource_meta, **obs_meta} if ctx.resource_meta else obs_meta
    unmapped = None if ctx.is_sdk else otel_io.attributes_metadata(attrs)
    if unmapped is not None:
        metadata["attributes"] = unmapped
    llm = _llm_fields(span, ctx)
    obs_input, obs_output = llm.pop("input"), llm.pop("output")
    # stored compressed when long (values.pack_io); the trace's fallback below shares the packed value
    obs_input = pack_io(otel_io.move_tool_definitions(metadata, obs_input))
    obs_output = pack_io(obs_output)
    observation = {
        "id": span.span_id,
        "trace_id": span.trace_id,
        "parent_observation_id": span.parent_span_id,
        "start_time": start,
        "end_time": end,
        "environment": _environment(attrs, ctx.resource),
        "level": _level(attrs, span.status_code, ctx.scope_name, span.name),
        "status_message": attrs.get(A.OBSERVATION_STATUS_MESSAGE) or span.status_message or None,
        "version": _str_or_none(attrs.get(A.VERSION) or ctx.resource_version),
        "input": obs_input,
        "output": obs_output,
        "metadata": dumps(metadata) if metadata else None,
        **llm,
        "as_root": int(as_root),
        "experiment": _experiment(attrs),
        "_resource": ctx.resource_key,
        "_scope": ctx.scope_key,
    }
    is_root = span.parent_span_id is None or as_root
    trace: dict[str, Any] = {
        "id": span.trace_id,
        "timestamp": start,
        "environment": observation["environment"],
        "is_root": is_root,
    }
    if is_root or trace_flagged or has_trace_updates(attrs):
        own = {"attributes": unmapped} if unmapped is not None else {}
        root_meta = {**obs_meta, **own} if is_root else {}
        trace.update(_trace_fields(attrs, ctx, {**ctx.resource_meta, **trace_meta, **root_meta}))
        if is_root:  # a root fills in name and I/O from its own observation
            trace.update(
                name_fallback=observation["name"], input_fallback=obs_input, output_fallback=obs_output
            )
    return observation, trace


_MODEL_FIELDS = ("model", "model_parameters", "completion_start_time", "prompt_name", "prompt_version")
_NO_MODEL: dict[str, Any] = {}  # filled below _NO_USAGE: every model and usage column empty


def _llm_fields(span: SpanRecord, ctx: _GroupContext) -> dict[str, Any]:
    """Type, name, I/O, model, parameters, usage and cost: Langfuse attributes first, then the
    third-party conventions (otel_mapping.py, otel_io.py) for spans of other instrumentations."""
    attrs = span.attributes
    obs_type = observation_type(attrs, ctx.scope_name, span.name)
    if ctx.is_sdk and obs_type in ("SPAN", "EVENT"):
        # the SDK's spans and events: nothing below survives for these types but name and I/O (§8)
        return {
            "type": obs_type,
            "name": observation_name(span.name, attrs),
            "input": _io(attrs.get(A.OBSERVATION_INPUT)),
            "output": _io(attrs.get(A.OBSERVATION_OUTPUT)),
            **_NO_MODEL,
        }
    fields = {
        "type": obs_type,
        "name": observation_name(span.name, attrs),
        "input": attrs.get(A.OBSERVATION_INPUT),
        "output": attrs.get(A.OBSERVATION_OUTPUT),
        "model": _stringify(_first(attrs, _MODEL_KEYS)),
        "model_parameters": _model_parameters(attrs.get(A.OBSERVATION_MODEL_PARAMETERS)),
        "completion_start_time": _completion_start(attrs.get(A.OBSERVATION_COMPLETION_START_TIME)),
        "prompt_name": attrs.get(A.OBSERVATION_PROMPT_NAME) or attrs.get("langfuse.prompt.name"),
        "prompt_version": attrs.get(A.OBSERVATION_PROMPT_VERSION, attrs.get("langfuse.prompt.version")),
    }
    usage = _json_object(attrs.get(A.OBSERVATION_USAGE_DETAILS))
    cost = _json_object(attrs.get(A.OBSERVATION_COST_DETAILS))
    if not ctx.is_sdk:
        usage, cost = _third_party_fields(span, ctx.scope_name, fields, usage, cost)
    fields.update(input=_io(fields["input"]), output=_io(fields["output"]), **usage_and_cost(usage, cost))
    fields["prompt_name"] = _str_or_none(fields["prompt_name"])
    fields["prompt_version"] = _int_or_none(fields["prompt_version"])
    if obs_type in ("SPAN", "EVENT"):  # these carry no model data upstream (otel-ingestion-mapping.md §8)
        fields.update(dict.fromkeys(_MODEL_FIELDS), **_NO_USAGE)
    elif obs_type != "GENERATION":  # only generations link a prompt (§7.10)
        fields["prompt_name"] = fields["prompt_version"] = None
    return fields


def _third_party_fields(
    span: SpanRecord, scope: str, fields: dict[str, Any], usage: Any, cost: Any
) -> tuple[Any, Any]:
    """Fill what the Langfuse attributes left open from the other conventions; returns (usage, cost)."""
    attrs = span.attributes
    if fields["input"] is None and fields["output"] is None:
        fields["input"], fields["output"] = otel_io.input_output(attrs, span.events, scope)
    fields["name"] = mapping.observation_name(span.name, attrs)
    fields["model"] = mapping.model_name(attrs)
    if scope == "ai":  # the AI SDK's settings, with explicit Langfuse parameters laid over them
        explicit = _json_object(fields["model_parameters"]) or {}
        fields["model_parameters"] = dumps({**mapping.vercel_parameters(attrs), **explicit})
    elif fields["model_parameters"] is None:
        fields["model_parameters"] = _dumps_params(mapping.model_parameters(attrs, scope))
    if fields["completion_start_time"] is None:
        first_chunk = mapping.first_chunk_ms(attrs)
        if first_chunk is not None:
            fields["completion_start_time"] = ns_to_iso(span.start_ns + math.ceil(first_chunk) * 1_000_000)
    if fields["prompt_name"] is None and "ai.telemetry.metadata.langfusePrompt" in attrs:
        fields["prompt_name"], fields["prompt_version"] = mapping.vercel_prompt(attrs)
    return (
        usage if usage is not None else mapping.usage_for_scope(attrs, scope),
        cost if cost is not None else mapping.cost_details(attrs),
    )


def _declared_type(attrs: dict[str, Any]) -> str | None:
    declared = attrs.get(A.OBSERVATION_TYPE)
    if isinstance(declared, str) and declared.upper() in OBSERVATION_TYPES:
        return declared.upper()
    return None


def _dumps_params(params: Any) -> str | None:
    return dumps(params) if isinstance(params, dict) and params else None


def _trace_fields(attrs: dict[str, Any], ctx: _GroupContext, metadata: dict[str, Any]) -> dict[str, Any]:
    """Trace-level values one span carries (server-ingestion.md §2.2)."""
    return {
        "name": _str_or_none(attrs.get(A.TRACE_NAME)),
        "input": pack_io(attrs.get(A.TRACE_INPUT) or None),
        "output": pack_io(attrs.get(A.TRACE_OUTPUT) or None),
        "metadata": metadata,
        "user_id": _stringify(_first(attrs, _USER_KEYS)),
        "session_id": _stringify(_first(attrs, _SESSION_KEYS)),
        "tags": _tags(attrs),
        "public": _public(attrs),
        "version": _str_or_none(attrs.get(A.VERSION) or ctx.resource_version),
        "release": _str_or_none(attrs.get(A.RELEASE) or ctx.resource_release),
        "_resource": ctx.resource_key,
        "_scope": ctx.scope_key,
    }


def has_trace_updates(attrs: dict[str, Any]) -> bool:
    present = _TRACE_UPDATE_KEY_SET.intersection(attrs)
    if present and any(attrs[key] for key in present):
        return True
    return any(key.startswith(_TRACE_META) for key in attrs)


def observation_type(attrs: dict[str, Any], scope_name: str = "", span_name: str = "") -> str:
    """Priority-ordered type rules (otel-ingestion-mapping.md §5); the first that yields a type wins."""
    return _declared_type(attrs) or mapping.observation_type(attrs, scope_name, span_name)


_NAME_KEYSET = frozenset({"gen_ai.tool.name", "logfire.msg", "ai.toolCall.name", "ai.operationId"})


def observation_name(span_name: str, attrs: dict[str, Any]) -> str:
    if _NAME_KEYSET.isdisjoint(attrs):
        return span_name
    for key in ("gen_ai.tool.name", "logfire.msg", "ai.toolCall.name"):
        value = attrs.get(key)
        if isinstance(value, str) and value:
            return value
    operation = attrs.get("ai.operationId")
    if isinstance(operation, str) and operation:
        function_id = attrs.get("ai.telemetry.functionId")
        return f"{function_id}:{operation}" if function_id else operation
    return span_name


def extract_metadata(attrs: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Metadata under one prefix: the whole-object attribute, then flattened ``<prefix>.<key>`` keys."""
    result = _whole_metadata(attrs.get("langfuse.metadata"))
    result.update(_whole_metadata(attrs.get(prefix)))
    dotted = prefix + "."
    for key, value in attrs.items():
        if key.startswith(dotted):
            result[key[len(dotted) :]] = _maybe_json(value)
        elif key.startswith("langfuse.metadata."):
            result[key[18:]] = _maybe_json(value)
    return result


def split_metadata(attrs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """One pass over the attributes: (observation metadata, trace metadata, any trace-metadata key seen)."""
    if _WHOLE_META_KEYS.isdisjoint(attrs):  # the usual case: only flattened keys, if any
        obs, trace = {}, {}
    else:
        shared = _whole_metadata(attrs.get("langfuse.metadata"))
        obs = {**shared, **_whole_metadata(attrs.get(_OBS_META))}
        trace = {**shared, **_whole_metadata(attrs.get(_TRACE_META))}
    flagged = _TRACE_META in attrs
    for key, value in attrs.items():
        kind, short = _KEY_KINDS.get(key) or _classify_key(key)
        if kind == _OTHER:
            continue
        if kind == _OBS_KEY:
            obs[short] = _maybe_json(value)
        elif kind == _TRACE_KEY:
            flagged = True
            trace[short] = _maybe_json(value)
        else:
            obs[short] = trace[short] = _maybe_json(value)
    return obs, trace, flagged


_WHOLE_META_KEYS = frozenset({"langfuse.metadata", _OBS_META, _TRACE_META})
_OTHER, _OBS_KEY, _TRACE_KEY, _SHARED_KEY = range(4)
# attribute names repeat across spans, so their metadata classification is computed once per name
_KEY_KINDS: dict[str, tuple[int, str]] = {}
_KEY_KINDS_MAX = 20_000


def _classify_key(key: str) -> tuple[int, str]:
    if key.startswith(_OBS_META_DOT):
        kind = (_OBS_KEY, key[_OBS_CUT:])
    elif key.startswith(_TRACE_META_DOT):
        kind = (_TRACE_KEY, key[_TRACE_CUT:])
    elif key.startswith("langfuse.metadata."):
        kind = (_SHARED_KEY, key[18:])
    else:
        kind = (_OTHER, "")
    if len(_KEY_KINDS) < _KEY_KINDS_MAX:  # bounded: arbitrary third-party keys must not grow it forever
        _KEY_KINDS[key] = kind
    return kind


def _whole_metadata(value: Any) -> dict[str, Any]:
    """A whole-object metadata attribute: JSON object spread, array spread by index, plain text dropped."""
    if value is None:
        return {}
    parsed = _maybe_json(value) if isinstance(value, str) else value
    if isinstance(parsed, dict):
        return dict(parsed)
    if isinstance(parsed, list):
        return {str(i): v for i, v in enumerate(parsed)}
    return {}


_NO_USAGE: dict[str, Any] = {
    "provided_usage_details": None,
    "provided_cost_details": None,
    "usage_details": None,
    "cost_details": None,
    "total_cost": None,
    "model_id": None,
    "usage_pricing_tier_id": None,
    "usage_pricing_tier_name": None,
}


_NO_MODEL.update(dict.fromkeys(_MODEL_FIELDS), **_NO_USAGE)


def usage_and_cost(usage: dict[str, Any] | None, cost: dict[str, Any] | None) -> dict[str, Any]:
    """Provided usage/cost as stored (normalized); the store computes the final values (costs.py)."""
    if not usage and not cost:
        return _NO_USAGE  # only ever spread into a new dict, so sharing it is safe
    usage_clean = normalize_usage(usage)
    cost_clean = normalize_cost(cost)
    return {
        **_NO_USAGE,
        "provided_usage_details": dumps(usage_clean) if usage_clean else None,
        "provided_cost_details": dumps(cost_clean) if cost_clean else None,
    }


# ---- small decoders ---------------------------------------------------------------------------------------


_KEYSETS: dict[tuple[str, ...], frozenset[str]] = {}


def _first(attrs: dict[str, Any], keys: tuple[str, ...]) -> Any:
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


def _maybe_json(value: Any) -> Any:
    """Metadata values are JSON-decoded when they are JSON text (as upstream returns them)."""
    if isinstance(value, str) and value and value[0] in '[{"-0123456789tfn':
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _json_object(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):
        value = _maybe_json(value)
    return value if isinstance(value, dict) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _str_or_none(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _stringify(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else dumps(value)


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


def _level(attrs: dict[str, Any], status_code: int, scope_name: str = "", span_name: str = "") -> str:
    level = attrs.get(A.OBSERVATION_LEVEL)
    if isinstance(level, str):
        mapped = _LEVEL_ALIASES.get(level.strip().upper())
        if mapped is not None:
            return mapped
    if status_code == 2:
        return "ERROR"
    return "DEBUG" if scope_name == "livekit-agents" and span_name in _LIVEKIT_DEBUG else "DEFAULT"


def _environment(attrs: dict[str, Any], resource: dict[str, Any]) -> str:
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


def _tags(attrs: dict[str, Any]) -> list[str] | None:
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
                parsed = _maybe_json(value)
                if isinstance(parsed, list):
                    return [str(v) for v in parsed]
            return [part.strip() for part in value.split(",") if part.strip()] if "," in value else [value]
    return None


_TAG_KEYSET = frozenset(_TAG_KEYS)


def _public(attrs: dict[str, Any]) -> bool | None:
    for key in (A.TRACE_PUBLIC, "langfuse.public"):
        if key in attrs:
            return attrs[key] in (True, "true")
    return None


def _completion_start(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    for candidate in (value, _maybe_json(value)):
        try:
            return parse_iso(candidate)
        except (ValueError, TypeError):
            continue
    return None


def _model_parameters(value: Any) -> str | None:
    parsed = _json_object(value)
    if not parsed:
        return None
    return dumps(
        {
            k: v if isinstance(v, str | int | float) and not isinstance(v, bool) else dumps(v)
            for k, v in parsed.items()
        }
    )


def _io(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return dumps(value)


_EXPERIMENT_KEYSET = frozenset(_EXPERIMENT_FIELDS)


def _experiment(attrs: dict[str, Any]) -> str | None:
    if _EXPERIMENT_KEYSET.isdisjoint(attrs):
        return None
    found = {field: attrs[key] for key, field in _EXPERIMENT_FIELDS.items() if key in attrs}
    return dumps(found) if found else None
