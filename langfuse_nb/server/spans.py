"""Pure mapping of decoded spans to observation rows and trace updates (see server-ingestion.md §2).

The per-field rules live in ``span_attributes.py`` (Langfuse attributes) and ``otel_mapping.py`` /
``otel_io.py`` (other instrumentations); this module assembles one row per span. It runs for every span
ingested, so each row is built as one dict literal and the SDK's plain spans skip the model fields.
"""

from __future__ import annotations

import math
import time
from typing import Any

import orjson

from langfuse_nb.server import otel_io
from langfuse_nb.server import otel_mapping as mapping
from langfuse_nb.server.costs import normalize_cost, normalize_usage
from langfuse_nb.server.errors import BadRequest
from langfuse_nb.server.otlp import ScopeSpans, SpanRecord
from langfuse_nb.server.read_gate import yield_to_reads
from langfuse_nb.server.span_attributes import (
    NAME_KEYSET,
    TRACE_META,
    KeyPlan,
    completion_start,
    environment,
    experiment,
    extract_metadata,
    first_present,
    int_or_none,
    io_text,
    json_object,
    level,
    model_parameters,
    plan,
    public,
    str_or_none,
    stringify,
    tags,
)
from langfuse_nb.server.span_attributes import has_trace_updates as has_trace_updates
from langfuse_nb.server.span_attributes import normalize_environment as normalize_environment
from langfuse_nb.server.span_attributes import split_metadata as split_metadata
from langfuse_nb.server.values import dumps, ns_to_iso, pack_io, second_prefix
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
_MAX_NS = 253_402_300_800 * 1_000_000_000  # 10000-01-01T00:00:00Z
# the older names of the test helpers that read single fields
_tags, _completion_start = tags, completion_start


def map_groups(groups: list[ScopeSpans]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """All spans of a request -> (observation rows, trace updates)."""
    observations: list[dict[str, Any]] = []
    traces: list[dict[str, Any]] = []
    for group in groups:
        context = _GroupContext(group)
        for span in group.spans:
            yield_to_reads()  # a worker lets a read in flight go first (read_gate; ~0.1 us when none is)
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
        "environment",
        "version",
        "release",
        "livekit",
    )

    def __init__(self, group: ScopeSpans) -> None:
        self.resource = group.resource
        self.scope = group.scope
        self.scope_name = str(group.scope.get("name") or "")
        # Langfuse SDKs (scope "langfuse-sdk", also versioned variants) map only langfuse.* attributes
        self.is_sdk = self.scope_name.startswith(SDK_SCOPE_NAME)
        self.resource_meta = extract_metadata(group.resource, TRACE_META)
        self.resource_version = group.resource.get("service.version")
        self.resource_release = group.resource.get(A.RELEASE)
        # stored once per distinct value (resources table), referenced by observations
        self.resource_key = dumps(group.resource)
        self.scope_key = dumps(group.scope)
        self.environment = environment({}, group.resource)  # of every span that names none itself
        self.version = str_or_none(self.resource_version)  # of every span without langfuse.version
        self.release = str_or_none(self.resource_release)
        self.livekit = self.scope_name == "livekit-agents"  # the one scope whose default level varies


def _ns_to_iso_us(ns: int) -> str:
    """OTLP nanoseconds -> the stored ISO form keeping microseconds (sub-ms durations stay visible)."""
    seconds, rest = divmod(int(ns), 1_000_000_000)
    return f"{second_prefix(seconds)}.{rest // 1000:06d}Z"  # whole seconds formatted once (cached)


def _times(span: SpanRecord) -> tuple[str | None, str | None]:
    end_ns = span.end_ns
    start_ns = span.start_ns or end_ns or time.time_ns()  # neither given: "now" (spec §2)
    if end_ns < start_ns:  # an end before the start (or none) is clamped to it
        end_ns = start_ns
    if start_ns < 0 or end_ns >= _MAX_NS:
        # beyond year 9999 the ISO text is not a datetime any client can parse (and sorts wrongly)
        raise BadRequest(f"span {span.name!r} has a start or end time outside years 1970-9999")
    if not start_ns:
        return None, None
    seconds, rest = divmod(start_ns, 1_000_000_000)
    prefix = _PREFIXES.get(seconds) or _prefix(seconds)
    # microseconds zero-padded to 6 digits: the digits of 10**6 + us without its leading 1
    start = f"{prefix}.{str(1_000_000 + rest // 1000)[1:]}Z"
    if end_ns == start_ns:
        return start, start
    end_seconds, end_rest = divmod(end_ns, 1_000_000_000)
    if end_seconds != seconds:  # most spans end within the second they started in
        prefix = _PREFIXES.get(end_seconds) or _prefix(end_seconds)
    return start, f"{prefix}.{str(1_000_000 + end_rest // 1000)[1:]}Z"


_PREFIXES: dict[int, str] = {}  # whole seconds formatted once: spans of a batch share a handful


def _prefix(seconds: int) -> str:
    if len(_PREFIXES) >= 4096:
        _PREFIXES.clear()
    text = _PREFIXES[seconds] = second_prefix(seconds)
    return text


def map_span(span: SpanRecord, ctx: _GroupContext) -> tuple[dict[str, Any], dict[str, Any]]:
    attrs = span.attributes
    keys = plan(attrs)  # every "keys.<rule>" test below skips a rule whose attributes the span lacks
    start, end = _times(span)
    as_root = keys.as_root and attrs[A.AS_ROOT] in (True, "true")
    if keys.meta or keys.whole_meta:
        obs_meta, trace_meta, trace_flagged = split_metadata(attrs, keys)
    else:
        obs_meta, trace_meta, trace_flagged = {}, {}, False
    metadata = {**ctx.resource_meta, **obs_meta} if ctx.resource_meta else obs_meta
    unmapped = None if ctx.is_sdk else otel_io.attributes_metadata(attrs)
    if unmapped is not None:
        metadata["attributes"] = unmapped
    llm = _sdk_llm_fields(span, attrs, keys, ctx.scope_name) if ctx.is_sdk else _llm_fields(span, ctx, keys)
    # stored compressed when long (values.pack_io); the trace's fallback below shares the packed value
    if "tools" in metadata or "attributes" in metadata:  # else there are no tool definitions to move
        obs_input = pack_io(otel_io.move_tool_definitions(metadata, llm[2]))
    else:
        obs_input = pack_io(llm[2])
    obs_output = pack_io(llm[3])
    env = environment(attrs, ctx.resource) if keys.environment else ctx.environment
    code = span.status_code
    # a copy of the row's template, then its fields: half the cost of a 31-key literal with a ** merge;
    # the template holds every key in the stored order, so assignments and update() keep that order
    observation = _OBSERVATION.copy()
    observation["id"] = span.span_id
    observation["trace_id"] = span.trace_id
    observation["parent_observation_id"] = span.parent_span_id
    observation["type"], observation["name"] = llm[0], llm[1]
    observation["start_time"], observation["end_time"] = start, end
    observation["environment"] = env
    observation["level"] = (
        level(attrs, code, ctx.scope_name, span.name)
        if keys.level or ctx.livekit
        else ("ERROR" if code == 2 else "DEFAULT")
    )
    observation["status_message"] = (
        (keys.status_message and attrs[A.OBSERVATION_STATUS_MESSAGE]) or span.status_message or None
    )
    observation["version"] = _version(attrs, ctx) if keys.version else ctx.version
    observation["input"], observation["output"] = obs_input, obs_output
    if metadata:
        observation["metadata"] = dumps(metadata)
    if llm[4] is not _NO_MODEL:
        observation.update(llm[4])
    observation["as_root"] = int(as_root)
    if keys.experiment:
        observation["experiment"] = experiment(attrs)
    observation["_resource"], observation["_scope"] = ctx.resource_key, ctx.scope_key
    is_root = span.parent_span_id is None or as_root
    if not (
        is_root
        or trace_flagged
        or keys.trace_prefixed
        or (keys.trace_keys and _any_truthy(attrs, keys.trace_keys))
    ):
        return observation, {"id": span.trace_id, "timestamp": start, "environment": env, "is_root": False}
    trace_metadata = {**ctx.resource_meta, **trace_meta}
    if is_root:  # a root's own metadata (and unmapped attributes) are its trace's too
        trace_metadata.update(obs_meta)
        if unmapped is not None:
            trace_metadata["attributes"] = unmapped
    trace = _trace_row(span, attrs, ctx, keys, trace_metadata)
    trace["timestamp"], trace["environment"], trace["is_root"] = start, env, is_root
    if is_root:  # a root fills in name and I/O from its own observation
        trace["name_fallback"], trace["input_fallback"], trace["output_fallback"] = (
            llm[1],
            obs_input,
            obs_output,
        )
    return observation, trace


def _any_truthy(attrs: dict[str, Any], names: tuple[str, ...]) -> bool:
    """``has_trace_updates`` once its prefix test is done: a truthy value of a trace attribute."""
    for name in names:  # noqa: SIM110 (a generator per span costs more than the test)
        if attrs[name]:
            return True
    return False


def _version(attrs: dict[str, Any], ctx: _GroupContext) -> str | None:
    return str_or_none(attrs[A.VERSION] or ctx.resource_version)


# type, name, input, output, and the model/usage/cost columns
_Llm = tuple[str, str, Any, Any, dict[str, Any]]
_MODEL_FIELDS = ("model", "model_parameters", "completion_start_time", "prompt_name", "prompt_version")


def _llm_fields(span: SpanRecord, ctx: _GroupContext, keys: KeyPlan) -> _Llm:
    """Type, name, I/O, model, parameters, usage and cost: Langfuse attributes first, then the
    third-party conventions (otel_mapping.py, otel_io.py) for spans of other instrumentations."""
    attrs = span.attributes
    obs_type = _type(attrs, keys, ctx.scope_name, span.name)
    fields: dict[str, Any] = {
        "name": observation_name(span.name, attrs),
        "input": attrs.get(A.OBSERVATION_INPUT),
        "output": attrs.get(A.OBSERVATION_OUTPUT),
        "model": stringify(first_present(attrs, keys.model_keys)),
        "model_parameters": model_parameters(attrs.get(A.OBSERVATION_MODEL_PARAMETERS)),
        "completion_start_time": completion_start(attrs.get(A.OBSERVATION_COMPLETION_START_TIME)),
        "prompt_name": attrs.get(A.OBSERVATION_PROMPT_NAME) or attrs.get("langfuse.prompt.name"),
        "prompt_version": attrs.get(A.OBSERVATION_PROMPT_VERSION, attrs.get("langfuse.prompt.version")),
    }
    usage = json_object(attrs.get(A.OBSERVATION_USAGE_DETAILS))
    cost = json_object(attrs.get(A.OBSERVATION_COST_DETAILS))
    usage, cost = _third_party_fields(span, ctx.scope_name, fields, usage, cost)
    name, obs_input, obs_output = fields["name"], io_text(fields["input"]), io_text(fields["output"])
    if obs_type in ("SPAN", "EVENT"):  # these carry no model data upstream (otel-ingestion-mapping.md §8)
        return obs_type, name, obs_input, obs_output, _NO_MODEL
    is_generation = obs_type == "GENERATION"  # only generations link a prompt (§7.10)
    model = {
        "model": fields["model"],
        "model_parameters": fields["model_parameters"],
        "completion_start_time": fields["completion_start_time"],
        "prompt_name": str_or_none(fields["prompt_name"]) if is_generation else None,
        "prompt_version": int_or_none(fields["prompt_version"]) if is_generation else None,
        **usage_and_cost(usage, cost),
    }
    return obs_type, name, obs_input, obs_output, model


def _type(attrs: dict[str, Any], keys: KeyPlan, scope_name: str, span_name: str) -> str:
    if keys.declared:
        declared = attrs[A.OBSERVATION_TYPE]
        found = _DECLARED.get(declared) if isinstance(declared, str) else None
        if found is not None:  # the SDK's spans: one lookup
            return found
    return observation_type(attrs, scope_name, span_name)


def _sdk_llm_fields(span: SpanRecord, attrs: dict[str, Any], keys: KeyPlan, scope_name: str) -> _Llm:
    """The Langfuse SDK's spans: only langfuse.* attributes count (the same rules as above, without the
    other conventions and without the intermediate dict: most spans ingested take this path)."""
    declared = attrs[A.OBSERVATION_TYPE] if keys.declared else None
    obs_type = _DECLARED.get(declared) if declared.__class__ is str else None  # the SDK's: one lookup
    if obs_type is None:
        obs_type = observation_type(attrs, scope_name, span.name)
    name = observation_name(span.name, attrs) if keys.named else span.name
    obs_input, obs_output = attrs.get(A.OBSERVATION_INPUT), attrs.get(A.OBSERVATION_OUTPUT)
    if obs_input.__class__ is not str and obs_input is not None:  # text (or nothing) is stored as is
        obs_input = io_text(obs_input)
    if obs_output.__class__ is not str and obs_output is not None:
        obs_output = io_text(obs_output)
    if obs_type in ("SPAN", "EVENT"):  # nothing else survives for these types (§8)
        return obs_type, name, obs_input, obs_output, _NO_MODEL
    model_name = stringify(first_present(attrs, keys.model_keys)) if keys.model_keys else None
    if not keys.model_details:  # only the columns that get a value: map_span lays them over empty ones
        model: dict[str, Any] = {"model": model_name}
        if keys.usage:
            _sdk_usage(attrs, model)
        return obs_type, name, obs_input, obs_output, model
    is_generation = obs_type == "GENERATION"  # only generations link a prompt (§7.10)
    model = {
        "model": model_name,
        "model_parameters": model_parameters(attrs.get(A.OBSERVATION_MODEL_PARAMETERS)),
        "completion_start_time": completion_start(attrs.get(A.OBSERVATION_COMPLETION_START_TIME)),
        "prompt_name": (
            str_or_none(attrs.get(A.OBSERVATION_PROMPT_NAME) or attrs.get("langfuse.prompt.name"))
            if is_generation
            else None
        ),
        "prompt_version": (
            int_or_none(attrs.get(A.OBSERVATION_PROMPT_VERSION, attrs.get("langfuse.prompt.version")))
            if is_generation
            else None
        ),
    }
    if keys.usage:
        _sdk_usage(attrs, model)
    return obs_type, name, obs_input, obs_output, model


def _sdk_usage(attrs: dict[str, Any], model: dict[str, Any]) -> None:
    """The provided usage/cost columns of ``usage_and_cost`` into ``model``, from the SDK's JSON texts
    (without the generic helpers' calls); nothing when neither is a non-empty object."""
    usage = _json_dict(attrs.get(A.OBSERVATION_USAGE_DETAILS))
    cost = _json_dict(attrs.get(A.OBSERVATION_COST_DETAILS))
    if not usage and not cost:
        return
    usage_clean = normalize_usage(usage)
    cost_clean = normalize_cost(cost)
    # both are text-keyed maps of bounded ints / finite floats here: plain orjson writes what dumps would
    if usage_clean:
        model["provided_usage_details"] = orjson.dumps(usage_clean).decode()
    if cost_clean:
        model["provided_cost_details"] = orjson.dumps(cost_clean).decode()


def _json_dict(value: Any) -> dict[str, Any] | None:
    """``json_object``: only a text starting with ``{`` can decode to an object."""
    if isinstance(value, str):
        if value[:1] != "{":
            return None
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    return value if isinstance(value, dict) else None


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
        explicit = json_object(fields["model_parameters"]) or {}
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


# the declared type as sent -> the stored one (the SDK sends lower case); other spellings are computed
_DECLARED = {**{t.lower(): t for t in OBSERVATION_TYPES}, **{t: t for t in OBSERVATION_TYPES}}


def _declared_type(attrs: dict[str, Any]) -> str | None:
    declared = attrs.get(A.OBSERVATION_TYPE)
    if not isinstance(declared, str):
        return None
    found = _DECLARED.get(declared)
    if found is not None:
        return found
    return declared.upper() if declared.upper() in OBSERVATION_TYPES else None


def _dumps_params(params: Any) -> str | None:
    return dumps(params) if isinstance(params, dict) and params else None


def _trace_row(
    span: SpanRecord, attrs: dict[str, Any], ctx: _GroupContext, keys: KeyPlan, metadata: dict[str, Any]
) -> dict[str, Any]:
    """Trace-level values one span carries (server-ingestion.md §2.2), on a copy of the row's template
    (every key in the stored order, empty): only the values the span has are assigned."""
    trace = _TRACE.copy()
    trace["id"] = span.trace_id
    if keys.trace_name:
        trace["name"] = str_or_none(attrs[A.TRACE_NAME])
    if keys.trace_io:
        trace["input"] = pack_io(attrs.get(A.TRACE_INPUT) or None)
        trace["output"] = pack_io(attrs.get(A.TRACE_OUTPUT) or None)
    trace["metadata"] = metadata
    if keys.user_keys:
        trace["user_id"] = _text(first_present(attrs, keys.user_keys))
    if keys.session_keys:
        trace["session_id"] = _text(first_present(attrs, keys.session_keys))
    if keys.tags:
        trace["tags"] = tags(attrs)
    if keys.public:
        trace["public"] = public(attrs)
    trace["version"] = _version(attrs, ctx) if keys.version else ctx.version
    trace["release"] = str_or_none(attrs[A.RELEASE] or ctx.resource_release) if keys.release else ctx.release
    trace["_resource"], trace["_scope"] = ctx.resource_key, ctx.scope_key
    return trace


def _text(value: Any) -> str | None:
    """``stringify`` with the usual text value returned without a further call."""
    return value if value.__class__ is str or value is None else stringify(value)


_TRACE: dict[str, Any] = {
    **dict.fromkeys(("id", "timestamp", "environment")),
    "is_root": False,
    **dict.fromkeys(("name", "input", "output", "metadata", "user_id", "session_id", "tags", "public")),
    **dict.fromkeys(("version", "release", "_resource", "_scope")),
}


def observation_type(attrs: dict[str, Any], scope_name: str = "", span_name: str = "") -> str:
    """Priority-ordered type rules (otel-ingestion-mapping.md §5); the first that yields a type wins."""
    return _declared_type(attrs) or mapping.observation_type(attrs, scope_name, span_name)


_NAME_KEYSET = NAME_KEYSET


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
# every model and usage column empty; only ever spread into a new dict, so sharing it is safe
_NO_MODEL: dict[str, Any] = {**dict.fromkeys(_MODEL_FIELDS), **_NO_USAGE}
# every column of an observation row, in the stored order, empty (map_span copies it per row)
_OBSERVATION: dict[str, Any] = dict.fromkeys(
    (
        "id",
        "trace_id",
        "parent_observation_id",
        "type",
        "name",
        "start_time",
        "end_time",
        "environment",
        "level",
        "status_message",
        "version",
        "input",
        "output",
        "metadata",
        *_NO_MODEL,
        "as_root",
        "experiment",
        "_resource",
        "_scope",
    )
)


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
