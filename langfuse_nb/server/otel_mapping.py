"""Third-party OpenTelemetry conventions -> Langfuse fields (otel-ingestion-mapping.md §5-§7).

Pure functions over one span's decoded attributes (and span events): OTel GenAI (``gen_ai.*``),
OpenInference (``llm.*``, ``input.value``), Vercel AI SDK (``ai.*``), TraceLoop/OpenLLMetry, Logfire and
Pydantic AI, MLflow, Google ADK, LiveKit, Flue and Genkit. Langfuse SDK spans never need them: their
``langfuse.*`` attributes are mapped in ``spans.py`` first and win.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson

from langfuse_nb.server.otel_values import decode, js_number, json_text, meaningful, stringify, truthy
from langfuse_nb.server.span_attributes import MODEL_KEYS

_AGENT_OPERATIONS = frozenset({"invoke_agent", "agent_step"})
_GEN_AI_OPERATIONS = {
    "chat": "GENERATION",
    "completion": "GENERATION",
    "text_completion": "GENERATION",
    "generate_content": "GENERATION",
    "generate": "GENERATION",
    "embeddings": "EMBEDDING",
    "invoke_agent": "AGENT",
    "create_agent": "AGENT",
    "execute_tool": "TOOL",
}
_OPENINFERENCE_KINDS = {
    "CHAIN": "CHAIN",
    "RETRIEVER": "RETRIEVER",
    "LLM": "GENERATION",
    "EMBEDDING": "EMBEDDING",
    "AGENT": "AGENT",
    "TOOL": "TOOL",
    "GUARDRAIL": "GUARDRAIL",
    "EVALUATOR": "EVALUATOR",
}
_GENKIT_SUBTYPES = {
    "background-model": "GENERATION",
    "model": "GENERATION",
    "embedder": "EMBEDDING",
    "tool": "TOOL",
    "tool.v2": "TOOL",
    "retriever": "RETRIEVER",
    "evaluator": "EVALUATOR",
}
_VERCEL_MODEL_OPS = {
    "ai.generateText.doGenerate": "GENERATION",
    "ai.streamText.doStream": "GENERATION",
    "ai.generateObject.doGenerate": "GENERATION",
    "ai.streamObject.doStream": "GENERATION",
    "ai.embedMany.doEmbed": "EMBEDDING",
    "ai.embed.doEmbed": "EMBEDDING",
}
_LIVEKIT_TYPES = {"agent_turn": "AGENT", "start_agent_activity": "AGENT", "function_tool": "TOOL"}
_TYPE_MODEL_KEYS = (
    "langfuse.observation.model.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "llm.model_name",
    "model",
)


# ---- observation type (§5) --------------------------------------------------------------------------------


def observation_type(attrs: dict[str, Any], scope_name: str, span_name: str) -> str:
    """Rules 3-11 of §5 (rules 1-2, the Langfuse type attribute, are applied by the caller)."""
    for rule in _TYPE_RULES:
        found = rule(attrs, scope_name, span_name)
        if found:
            return found
    return "SPAN"


def _by_openinference(attrs: dict[str, Any], *_: str) -> str | None:
    kind = attrs.get("openinference.span.kind")
    return _OPENINFERENCE_KINDS.get(kind) if isinstance(kind, str) else None


def _by_gen_ai_operation(attrs: dict[str, Any], *_: str) -> str | None:
    operation = attrs.get("gen_ai.operation.name")
    return _GEN_AI_OPERATIONS.get(operation) if isinstance(operation, str) else None


def _by_genkit(attrs: dict[str, Any], *_: str) -> str | None:
    subtype = attrs.get("genkit:metadata:subtype")
    return _GENKIT_SUBTYPES.get(subtype) if isinstance(subtype, str) else None


def _vercel_operation(attrs: dict[str, Any]) -> str | None:
    name, operation_id = attrs.get("operation.name"), attrs.get("ai.operationId")
    for candidate in _VERCEL_MODEL_OPS:
        if (isinstance(name, str) and name.startswith(candidate)) or operation_id == candidate:
            return candidate
    return None


def _by_vercel(attrs: dict[str, Any], *_: str) -> str | None:
    if "operation.name" not in attrs and "ai.operationId" not in attrs:
        return None
    operation = _vercel_operation(attrs)
    if operation is not None:
        model_keys = (
            "langfuse.observation.model.name",
            "ai.model.id",
            "gen_ai.request.model",
            "gen_ai.response.model",
        )
        return _VERCEL_MODEL_OPS[operation] if any(meaningful(attrs.get(k)) for k in model_keys) else None
    name, operation_id = attrs.get("operation.name"), attrs.get("ai.operationId")
    tool_call = (isinstance(name, str) and name.startswith("ai.toolCall")) or operation_id == "ai.toolCall"
    return "TOOL" if tool_call else None


def _by_tool(attrs: dict[str, Any], *_: str) -> str | None:
    return (
        "TOOL"
        if meaningful(attrs.get("gen_ai.tool.name")) or meaningful(attrs.get("gen_ai.tool.call.id"))
        else None
    )


def _by_flue(attrs: dict[str, Any], *_: str) -> str | None:
    if meaningful(attrs.get("flue.tool.name")) or meaningful(attrs.get("flue.tool.call_id")):
        return "TOOL"
    return (
        "AGENT" if meaningful(attrs.get("flue.task.id")) or meaningful(attrs.get("flue.task.agent")) else None
    )


def _by_livekit(attrs: dict[str, Any], scope_name: str, span_name: str) -> str | None:
    return _LIVEKIT_TYPES.get(span_name) if scope_name == "livekit-agents" else None


def _by_model(attrs: dict[str, Any], *_: str) -> str | None:
    return "GENERATION" if any(meaningful(attrs.get(k)) for k in _TYPE_MODEL_KEYS) else None


_TYPE_RULES: tuple[Callable[[dict[str, Any], str, str], str | None], ...] = (
    _by_openinference,
    _by_gen_ai_operation,
    _by_genkit,
    _by_vercel,
    _by_tool,
    _by_flue,
    _by_livekit,
    _by_model,
)


# ---- name, model, parameters (§7.1, §7.6, §7.7) -----------------------------------------------------------


_NAME_KEYS = frozenset(
    {"gen_ai.tool.name", "genkit:name", "logfire.msg", "ai.toolCall.name", "ai.operationId"}
)


def observation_name(span_name: str, attrs: dict[str, Any]) -> str:
    if _NAME_KEYS.isdisjoint(attrs):
        return span_name
    tool = attrs.get("gen_ai.tool.name")
    if truthy(tool):
        return stringify(tool)
    if "genkit:name" in attrs:
        return stringify(attrs["genkit:name"])
    message = attrs.get("logfire.msg")
    if truthy(message):
        return stringify(message)
    if "ai.toolCall.name" in attrs:
        return stringify(attrs["ai.toolCall.name"])
    if "ai.operationId" in attrs:
        function_id = attrs.get("ai.telemetry.functionId")
        operation = stringify(attrs["ai.operationId"])
        return f"{function_id}:{operation}" if truthy(function_id) else operation
    return span_name


def model_name(attrs: dict[str, Any]) -> str | None:
    if attrs.get("gen_ai.operation.name") in _AGENT_OPERATIONS:
        return None  # agent spans repeat their child model calls' usage (§7.14)
    for key in MODEL_KEYS:  # the model name's candidates, shared with the ingest key plan
        value = attrs.get(key)
        if truthy(value):
            return stringify(value)
    if attrs.get("genkit:metadata:subtype") == "model" and truthy(attrs.get("genkit:name")):
        return stringify(attrs["genkit:name"])
    return None


def sanitize_parameters(value: Any) -> Any:
    """Strings and numbers stay; any other value becomes its JSON text (a list becomes index keys)."""
    if isinstance(value, list):
        value = {str(i): v for i, v in enumerate(value)}
    if not isinstance(value, dict):
        return value
    return {
        k: v if isinstance(v, str | int | float) and not isinstance(v, bool) else json_text(v)
        for k, v in value.items()
    }


def model_parameters(attrs: dict[str, Any], scope_name: str) -> dict[str, Any] | None:
    """Steps 2 and 5-7 of §7.7 (explicit Langfuse parameters are handled by the caller)."""
    if scope_name == "genkit-tracer":
        config = _dict_field(decode(attrs.get("genkit:input")), "config") or _dict_field(
            _dict_field(decode(attrs.get("genkit:output")), "request"), "config"
        )
        if config is not None:
            return sanitize_parameters(config)
    for key in ("llm.invocation_parameters", "model_config"):
        raw = attrs.get(key)
        if truthy(raw) and isinstance(raw, str):
            parsed = decode(raw)
            if parsed is not raw and parsed is not None:
                return sanitize_parameters(parsed)
    requested: dict[str, Any] = {}
    invocation: dict[str, Any] = {}  # wins over gen_ai.request.<p> of the same name
    for key, value in attrs.items():
        if key.startswith(_PARAMETER_PREFIXES):
            short = key[15:] if key[0] == "g" else key[26:]
            if short != "model":
                (requested if key[0] == "g" else invocation)[short] = value
    collected = {**requested, **invocation}
    return sanitize_parameters(collected) if collected else None


_PARAMETER_PREFIXES = ("gen_ai.request.", "llm.invocation_parameters.")


def _dict_field(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


# ---- usage and cost (§7.8, §7.9) ---------------------------------------------------------------------------

_USAGE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("total_input", ("prompt_tokens", "input_tokens", "prompt")),
    ("total_output", ("completion_tokens", "output_tokens", "completion")),
    ("total", ("total_tokens", "total")),
    (
        "input_cached_tokens",
        (
            "cache_read.input_tokens",
            "cache_read_input_tokens",
            "cache_read_tokens",
            "details.cache_read_tokens",
            "details.cache_read_input_tokens",
            "prompt_details.cache_read",
            "input_cached_tokens",
        ),
    ),
    (
        "input_cache_creation",
        (
            "cache_creation.input_tokens",
            "cache_creation_input_tokens",
            "cache_write_tokens",
            "details.cache_write_tokens",
            "details.cache_creation_input_tokens",
            "prompt_details.cache_write",
            "input_cache_creation",
        ),
    ),
    ("output_reasoning_tokens", ("reasoning.output_tokens", "completion_details.reasoning")),
    ("output_audio_tokens", ("completion_details.audio",)),
)
_ALIAS_SLOTS = {alias: (group, n) for group, aliases in _USAGE_GROUPS for n, alias in enumerate(aliases)}


_USAGE_PREFIXES = ("gen_ai.usage.", "llm.token_count.")


def usage_details(attrs: dict[str, Any]) -> dict[str, Any]:
    """The generic rule (§7.8.2): ``gen_ai.usage.*`` and ``llm.token_count.*`` with alias groups."""
    if attrs.get("gen_ai.operation.name") in _AGENT_OPERATIONS:
        return {}
    raw: dict[str, float] = {}
    for key, value in attrs.items():
        if not key.startswith(_USAGE_PREFIXES) or key == "gen_ai.usage.cost":
            continue
        short = key[13:] if key[0] == "g" else key[16:]
        number = js_number(value)
        if number is not None:
            raw[short] = number
    if not raw:
        return {}
    return _resolve_usage(raw)


def _resolve_usage(raw: dict[str, float]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    chosen: dict[str, tuple[int, float]] = {}  # group -> (alias position, value): the first alias wins
    for key, value in raw.items():
        slot = _ALIAS_SLOTS.get(key)
        if slot is None:
            result[key[8:] if key.startswith("details.") else key] = value
        elif slot[0] not in chosen or slot[1] < chosen[slot[0]][0]:
            chosen[slot[0]] = (slot[1], value)
    found = {name: value for name, (_, value) in chosen.items()}
    if "total_input" in found:
        parts = found.get("input_cached_tokens", 0) + found.get("input_cache_creation", 0)
        found["input"] = max(found.pop("total_input") - parts, 0)
    if "total_output" in found:
        parts = found.get("output_reasoning_tokens", 0) + found.get("output_audio_tokens", 0)
        found["output"] = max(found.pop("total_output") - parts, 0)
    result.update(found)
    return {k: int(v) if float(v).is_integer() else v for k, v in result.items()}


def cost_details(attrs: dict[str, Any]) -> dict[str, Any]:
    if attrs.get("gen_ai.operation.name") in _AGENT_OPERATIONS:
        return {}
    for key in ("gen_ai.usage.cost", "llm.cost.total"):
        value = attrs.get(key)
        if value is not None and value != "":
            return {"total": value}
    return {}


# ---- framework-specific usage (§7.8.3-§7.8.5), first-chunk time (§7.11), prompt (§7.10) -----------------


def usage_for_scope(attrs: dict[str, Any], scope_name: str) -> dict[str, Any]:
    """Usage by the entry order of §7.8.1 (Langfuse's own attribute is handled by the caller)."""
    if scope_name == "genkit-tracer":
        usage = _dict_field(decode(attrs.get("genkit:output")), "usage")
        if isinstance(usage, dict):
            return _genkit_usage(usage)
    if scope_name == "ai":
        found = _vercel_usage(attrs)
        if found is not None:
            return found
    usage = usage_details(attrs)
    if scope_name == "gcp.vertex.agent" and "gcp.vertex.agent.llm_response" in attrs:
        _adk_cache(usage, attrs["gcp.vertex.agent.llm_response"])
    return usage


def _genkit_usage(usage: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if truthy(usage.get("inputTokens")):
        result["input"] = usage["inputTokens"]
    thoughts = usage.get("thoughtsTokens")
    if truthy(usage.get("outputTokens")):
        result["output"] = max(usage["outputTokens"] - (thoughts or 0), 0)
    if truthy(usage.get("totalTokens")):
        result["total"] = usage["totalTokens"]
    if truthy(thoughts):
        result["output_reasoning"] = thoughts
    return result


def _int_or_none(value: Any) -> int | None:
    match = re.match(r"^\s*[+-]?\d+", value) if isinstance(value, str) else None
    if match:
        return int(match.group())
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _vercel_usage(attrs: dict[str, Any]) -> dict[str, Any] | None:
    """The Vercel AI SDK's usage attributes and provider metadata; None on a JSON error (§7.8.3)."""
    usage: dict[str, Any] = {}
    for target, keys in (
        ("input", ("gen_ai.usage.prompt_tokens", "gen_ai.usage.input_tokens")),
        ("output", ("gen_ai.usage.completion_tokens", "gen_ai.usage.output_tokens")),
        ("total", ("ai.usage.tokens",)),
    ):
        key = next((k for k in keys if k in attrs), None)
        if key is not None and _int_or_none(attrs[key]) is not None:
            usage[target] = _int_or_none(attrs[key])
    try:
        for target, key in (
            ("input_cached_tokens", "ai.usage.cachedInputTokens"),
            ("output_reasoning_tokens", "ai.usage.reasoningTokens"),
        ):
            if key in attrs:
                value = orjson.loads(attrs[key]) if isinstance(attrs[key], str) else attrs[key]
                usage[target] = value.get("intValue") if isinstance(value, dict) else value
        metadata = attrs.get("ai.response.providerMetadata")
        provider = orjson.loads(metadata) if isinstance(metadata, str) else {}
    except orjson.JSONDecodeError:
        return None
    _provider_usage(usage, provider if isinstance(provider, dict) else {})
    parts = (
        "input_cached_tokens",
        "input_cache_creation",
        "input_cache_creation_5m",
        "input_cache_creation_1h",
    )
    subtract = sum(
        usage.get(k) or 0 for k in (*parts, "input_cache_read") if isinstance(usage.get(k), int | float)
    )
    usage["input"] = max((usage.get("input") or 0) - subtract, 0)
    reasoning = usage.get("output_reasoning_tokens")
    usage["output"] = max(
        (usage.get("output") or 0) - (reasoning if isinstance(reasoning, int | float) else 0), 0
    )
    return {k: v for k, v in usage.items() if v is not None}


def _provider_usage(usage: dict[str, Any], provider: dict[str, Any]) -> None:
    """Fill still-unset keys from the OpenAI, Anthropic and Bedrock blocks of the provider metadata."""
    blocks = {
        "openai": (
            ("input_cached_tokens", "cachedPromptTokens"),
            ("accepted_prediction_tokens", "acceptedPredictionTokens"),
            ("rejected_prediction_tokens", "rejectedPredictionTokens"),
            ("output_reasoning_tokens", "reasoningTokens"),
        ),
        "anthropic": (
            ("input_cache_creation", "cache_creation_input_tokens"),
            ("input_cached_tokens", "cache_read_input_tokens"),
        ),
        "bedrock": (
            ("input_cache_read", "cacheReadInputTokens"),
            ("input_cache_write", "cacheWriteInputTokens"),
            ("input_cache_creation", "cacheCreationInputTokens"),
        ),
    }
    for name, pairs in blocks.items():
        block = provider.get(name)
        block = block.get("usage", block) if name != "openai" and isinstance(block, dict) else block
        if not isinstance(block, dict):
            continue
        for target, source in pairs:
            if usage.get(target) is None and block.get(source) is not None:
                usage[target] = block[source]
        creation = block.get("cache_creation") if name == "anthropic" else None
        if isinstance(creation, dict):
            _anthropic_cache_split(usage, creation)


def _anthropic_cache_split(usage: dict[str, Any], creation: dict[str, Any]) -> None:
    for target, source in (
        ("input_cache_creation_5m", "ephemeral_5m_input_tokens"),
        ("input_cache_creation_1h", "ephemeral_1h_input_tokens"),
    ):
        if isinstance(creation.get(source), int | float):
            usage[target] = creation[source]
    total = usage.get("input_cache_creation")
    if isinstance(total, int | float):
        split = (usage.get("input_cache_creation_5m") or 0) + (usage.get("input_cache_creation_1h") or 0)
        usage["input_cache_creation"] = max(total - split, 0)


def _adk_cache(usage: dict[str, Any], response: Any) -> None:
    if "input_cached_tokens" in usage:
        return
    cached = _dict_field(_dict_field(decode(response), "usage_metadata"), "cached_content_token_count")
    if isinstance(cached, int | float) and not isinstance(cached, bool) and cached > 0:
        usage["input_cached_tokens"] = cached
        if "input" in usage:
            usage["input"] = max(usage["input"] - cached, 0)


def first_chunk_ms(attrs: dict[str, Any]) -> float | None:
    """Milliseconds from span start to the first streamed chunk (Vercel AI SDK)."""
    value = attrs.get("ai.response.msToFirstChunk")
    if value is None:
        value = attrs.get("ai.stream.msToFirstChunk")
    number = js_number(value) if truthy(value) else None
    return number if number is not None and number > 0 else None


def vercel_prompt(attrs: dict[str, Any]) -> tuple[Any, Any]:
    """(name, version) from ``ai.telemetry.metadata.langfusePrompt``."""
    prompt = decode(attrs.get("ai.telemetry.metadata.langfusePrompt"))
    return (prompt.get("name"), prompt.get("version")) if isinstance(prompt, dict) else (None, None)


_VERCEL_PARAMETERS = (
    ("maxSteps", ("ai.settings.maxSteps",)),
    ("toolChoice", ("ai.prompt.toolChoice",)),
    ("maxTokens", ("gen_ai.request.max_tokens",)),
    ("finishReason", ("gen_ai.response.finish_reasons", "gen_ai.finishReason")),
    ("system", ("gen_ai.system", "ai.model.provider")),
    ("maxRetries", ("ai.settings.maxRetries",)),
    ("mode", ("ai.settings.mode",)),
    ("temperature", ("gen_ai.request.temperature",)),
)


def vercel_parameters(attrs: dict[str, Any]) -> dict[str, Any]:
    """The Vercel AI SDK's settings as model parameters: string forms, null when absent (row V8)."""
    result: dict[str, Any] = {}
    for name, keys in _VERCEL_PARAMETERS:
        value = next((attrs[k] for k in keys if attrs.get(k) is not None), None)
        result[name] = _js_text(value)
    tier = _dict_field(
        _dict_field(decode(attrs.get("ai.response.providerMetadata")), "openai"), "serviceTier"
    )
    result["service_tier"] = (
        tier if isinstance(tier, str) else _js_text(attrs.get("gen_ai.request.service_tier"))
    )
    return result


def _js_text(value: Any) -> str | None:
    """JavaScript's ``String(value)``: lists joined with commas, integral floats without ``.0``."""
    if value is None:
        return None
    if isinstance(value, list):
        return ",".join("" if v is None else str(_js_text(v)) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
