"""Third-party OpenTelemetry conventions -> Langfuse fields (otel-ingestion-mapping.md §5-§7).

Pure functions over one span's decoded attributes (and span events): OTel GenAI (``gen_ai.*``),
OpenInference (``llm.*``, ``input.value``), Vercel AI SDK (``ai.*``), TraceLoop/OpenLLMetry, Logfire and
Pydantic AI, MLflow, Google ADK, LiveKit, Flue and Genkit. Langfuse SDK spans never need them: their
``langfuse.*`` attributes are mapped in ``spans.py`` first and win.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import orjson

IO = tuple[Any, Any]
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
_MODEL_KEYS = (
    "langfuse.observation.model.name",
    "gen_ai.response.model",
    "ai.model.id",
    "gen_ai.request.model",
    "llm.response.model",
    "llm.model_name",
    "model",
)
_TYPE_MODEL_KEYS = (
    "langfuse.observation.model.name",
    "gen_ai.request.model",
    "gen_ai.response.model",
    "llm.model_name",
    "model",
)


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
    for key in _MODEL_KEYS:
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
_ALIASES = frozenset(alias for _, aliases in _USAGE_GROUPS for alias in aliases)


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
    result: dict[str, Any] = {
        (key[8:] if key.startswith("details.") else key): value
        for key, value in raw.items()
        if key not in _ALIASES
    }
    groups = {name: next((raw[a] for a in aliases if a in raw), None) for name, aliases in _USAGE_GROUPS}
    found = {name: value for name, value in groups.items() if value is not None}
    if "total_input" in found:
        parts = found.get("input_cached_tokens", 0) + found.get("input_cache_creation", 0)
        found["input"] = max(found.pop("total_input") - parts, 0)
    if "total_output" in found:
        parts = found.get("output_reasoning_tokens", 0) + found.get("output_audio_tokens", 0)
        found["output"] = max(found.pop("total_output") - parts, 0)
    result.update(found)
    return {k: int(v) if float(v).is_integer() else v for k, v in result.items()}


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


def cost_details(attrs: dict[str, Any]) -> dict[str, Any]:
    if attrs.get("gen_ai.operation.name") in _AGENT_OPERATIONS:
        return {}
    for key in ("gen_ai.usage.cost", "llm.cost.total"):
        value = attrs.get(key)
        if value is not None and value != "":
            return {"total": value}
    return {}


# ---- input and output (§7.12) ------------------------------------------------------------------------------


def input_output(attrs: dict[str, Any], events: list[dict[str, Any]], scope_name: str) -> IO:
    """The first source, in the spec's order of steps, that yields an input or an output."""
    if scope_name == "genkit-tracer":
        return _genkit_io(attrs)
    if scope_name == "ai":
        return _vercel_io(attrs)
    for step, triggers, needs_events in _IO_STEPS:
        # a C-level disjointness test skips the steps whose attributes the span does not have
        if (needs_events and not events) or (triggers is not None and triggers.isdisjoint(attrs)):
            continue
        found = step(attrs, events, scope_name)
        if found is not None:
            return found
    return None, None


def _either(pair: IO) -> IO | None:
    return pair if truthy(pair[0]) or truthy(pair[1]) else None


def _genkit_io(attrs: dict[str, Any]) -> IO:
    source_in, source_out = decode(attrs.get("genkit:input")), decode(attrs.get("genkit:output"))
    given_in = source_in.get("messages", source_in) if isinstance(source_in, dict) else source_in
    given_out = source_out.get("message", source_out) if isinstance(source_out, dict) else source_out
    return given_in, given_out


def _vercel_io(attrs: dict[str, Any]) -> IO:
    given_in = next(
        (attrs[k] for k in ("ai.prompt.messages", "ai.prompt", "ai.toolCall.args") if k in attrs), None
    )
    if "ai.response.text" in attrs and "ai.response.toolCalls" in attrs:
        message = {
            "role": "assistant",
            "content": attrs["ai.response.text"],
            "tool_calls": decode(attrs["ai.response.toolCalls"]),
        }
        given_out: Any = json_text(message)
    elif truthy(attrs.get("ai.response.text")):
        given_out = attrs["ai.response.text"]
    else:
        keys = (
            "ai.result.text",
            "ai.toolCall.result",
            "ai.response.object",
            "ai.result.object",
            "ai.response.toolCalls",
            "ai.result.toolCalls",
        )
        given_out = next((attrs[k] for k in keys if k in attrs), None)
    if given_in is None or given_out is None:
        fallback = _gen_ai_attributes(attrs) or (None, None)
        given_in = fallback[0] if given_in is None else given_in
        given_out = fallback[1] if given_out is None else given_out
    return given_in, given_out


def _flue_io(attrs: dict[str, Any], events: list[dict[str, Any]], scope_name: str) -> IO | None:
    if scope_name != "@flue/opentelemetry":
        return None
    ins = ("flue.turn.input", "flue.tool.arguments", "flue.task.prompt", "flue.workflow.payload")
    outs = (
        "flue.turn.output",
        "flue.tool.result",
        "flue.task.result",
        "flue.operation.result",
        "flue.workflow.result",
    )
    given_in = next((decode(attrs[k]) for k in ins if attrs.get(k) is not None), None)
    given_out = next((decode(attrs[k]) for k in outs if attrs.get(k) is not None), None)
    return (given_in, given_out) if given_in is not None or given_out is not None else None


def _operation_details_events(
    attrs: dict[str, Any], events: list[dict[str, Any]], scope_name: str
) -> IO | None:
    for event in events:
        if event.get("name") == "gen_ai.client.inference.operation.details":
            found = _gen_ai_attributes(event.get("attributes") or {})
            if found is not None:
                return found
    return None


_MESSAGE_EVENTS = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}


def _message_events(attrs: dict[str, Any], events: list[dict[str, Any]], scope_name: str) -> IO | None:
    messages = [
        {"role": _MESSAGE_EVENTS[e["name"]], **(e.get("attributes") or {})}
        for e in events
        if e.get("name") in _MESSAGE_EVENTS
    ]
    choices = [e.get("attributes") or {} for e in events if e.get("name") == "gen_ai.choice"]
    if not messages and not choices:
        return None
    output: Any = (choices[0] if len(choices) == 1 else choices) if choices else None
    return (messages or None), output


def _content_events(attrs: dict[str, Any], events: list[dict[str, Any]], scope_name: str) -> IO | None:
    prompt = next((e for e in events if e.get("name") == "gen_ai.content.prompt"), None)
    completion = next((e for e in events if e.get("name") == "gen_ai.content.completion"), None)
    if prompt is None and completion is None:
        return None
    results = []
    for event, side in ((prompt, 0), (completion, 1)):
        event_attrs = (event or {}).get("attributes") or {}
        nested = input_output(event_attrs, [], scope_name)[side] if event_attrs else None
        results.append(nested if truthy(nested) else event_attrs)
    return results[0], results[1]


def _pair(in_key: str, out_key: str, *, scope: str | None = None) -> Callable[..., IO | None]:
    def step(attrs: dict[str, Any], events: list[dict[str, Any]], scope_name: str) -> IO | None:
        if scope is not None and scope_name != scope:
            return None
        return _either((attrs.get(in_key), attrs.get(out_key)))

    return step


def _adk(attrs: dict[str, Any], events: list[dict[str, Any]], scope_name: str) -> IO | None:
    def pick(first: str, second: str) -> Any:
        value = attrs.get(first)
        return attrs.get(second) if value == "{}" or not truthy(value) else value

    return _either(
        (
            pick("gcp.vertex.agent.llm_request", "gcp.vertex.agent.tool_call_args"),
            pick("gcp.vertex.agent.llm_response", "gcp.vertex.agent.tool_response"),
        )
    )


def _livekit(attrs: dict[str, Any], events: list[dict[str, Any]], scope_name: str) -> IO | None:
    given_in = next(
        (
            attrs[k]
            for k in ("lk.input_text", "lk.user_transcript", "lk.chat_ctx")
            if attrs.get(k) is not None
        ),
        None,
    )
    given_out = next(
        (attrs[k] for k in ("lk.function_tool.output", "lk.response.text") if truthy(attrs.get(k))), None
    )
    return _either((given_in, given_out))


def _logfire_events(attrs: dict[str, Any], events: list[dict[str, Any]], scope_name: str) -> IO | None:
    entries = decode(attrs.get("events"))
    if not isinstance(entries, list):
        return None
    entries = [e for e in entries if isinstance(e, dict)]
    others = [e for e in entries if e.get("event.name") != "gen_ai.choice"]
    choice = next((e for e in entries if e.get("event.name") == "gen_ai.choice"), None)
    return (others or None, choice) if others or choice is not None else None


def _pydantic_ai(attrs: dict[str, Any], events: list[dict[str, Any]], scope_name: str) -> IO | None:
    if scope_name != "pydantic-ai":
        return None
    messages = attrs.get("pydantic_ai.all_messages")
    messages = _with_system_instructions(messages, attrs.get("gen_ai.system_instructions"))
    return _either((messages, attrs.get("final_result")))


_INDEXED_PREFIXES = ("gen_ai.prompt", "gen_ai.completion", "llm.input_messages", "llm.output_messages")


def _indexed(attrs: dict[str, Any], events: list[dict[str, Any]], scope_name: str) -> IO | None:
    if not any(key.startswith(_INDEXED_PREFIXES) for key in attrs):
        return None
    for in_prefix, out_prefix in (
        ("gen_ai.prompt", "gen_ai.completion"),
        ("llm.input_messages", "llm.output_messages"),
    ):
        has_in = any(k.startswith(in_prefix) for k in attrs)
        has_out = any(k.startswith(out_prefix) for k in attrs)
        if has_in or has_out:
            return (
                rebuild_indexed(attrs, in_prefix) if has_in else None,
                rebuild_indexed(attrs, out_prefix) if has_out else None,
            )
    return None


def _gen_ai_step(attrs: dict[str, Any], events: list[dict[str, Any]], scope_name: str) -> IO | None:
    return _gen_ai_attributes(attrs)


def _gen_ai_attributes(attrs: dict[str, Any]) -> IO | None:
    """Step 20: ``gen_ai.input.messages`` (with system instructions) / ``gen_ai.output.messages``,
    else the tool call's arguments and result."""
    messages = attrs.get("gen_ai.input.messages")
    output = attrs.get("gen_ai.output.messages")
    if truthy(messages) or truthy(output):
        return _with_system_instructions(messages, attrs.get("gen_ai.system_instructions")), output
    return _either((attrs.get("gen_ai.tool.call.arguments"), attrs.get("gen_ai.tool.call.result")))


def _with_system_instructions(messages: Any, instructions: Any) -> Any:
    """Prepend ``{"role": "system", ...}`` to a message list that has none (§7.12.2)."""
    if not truthy(instructions):
        return messages
    decoded = decode(messages)
    if not isinstance(decoded, list) or any(
        isinstance(m, dict) and m.get("role") == "system" for m in decoded
    ):
        return messages
    text = decode(instructions)
    if isinstance(text, list):
        text = "\n".join(str(p.get("content", p)) if isinstance(p, dict) else str(p) for p in text)
    system = {"role": "system", "content": text if isinstance(text, str) else stringify(text)}
    combined = [system, *decoded]
    return json_text(combined) if isinstance(messages, str) else combined


_Step = Callable[[dict[str, Any], list[dict[str, Any]], str], IO | None]


def _keys(*names: str) -> frozenset[str]:
    return frozenset(names)


def _paired(in_key: str, out_key: str) -> tuple[_Step, frozenset[str], bool]:
    return _pair(in_key, out_key), _keys(in_key, out_key), False


# (step, attributes that can trigger it or None for "always try", whether it reads span events)
_IO_STEPS: tuple[tuple[_Step, frozenset[str] | None, bool], ...] = (
    (_flue_io, None, False),
    (_operation_details_events, None, True),
    (_message_events, None, True),
    (_content_events, None, True),
    (
        _adk,
        _keys(
            "gcp.vertex.agent.llm_request",
            "gcp.vertex.agent.tool_call_args",
            "gcp.vertex.agent.llm_response",
            "gcp.vertex.agent.tool_response",
        ),
        False,
    ),
    _paired("prompt", "all_messages_events"),
    (
        _livekit,
        _keys(
            "lk.input_text",
            "lk.user_transcript",
            "lk.chat_ctx",
            "lk.function_tool.output",
            "lk.response.text",
        ),
        False,
    ),
    (_logfire_events, _keys("events"), False),
    _paired("mlflow.spanInputs", "mlflow.spanOutputs"),
    _paired("traceloop.entity.input", "traceloop.entity.output"),
    _paired("input.value", "output.value"),
    _paired("input", "output"),
    (_pydantic_ai, _keys("pydantic_ai.all_messages", "final_result"), False),
    _paired("tool_arguments", "tool_response"),
    (_indexed, None, False),
    (
        _gen_ai_step,
        _keys(
            "gen_ai.input.messages",
            "gen_ai.output.messages",
            "gen_ai.tool.call.arguments",
            "gen_ai.tool.call.result",
        ),
        False,
    ),
)


# ---- rebuilding indexed attributes (§7.12.1) ---------------------------------------------------------------

_FORBIDDEN_SEGMENTS = frozenset({"__proto__", "constructor", "prototype"})
_INDEX_KEY = re.compile(r"^\d+\.")
_MAX_SLOTS = 10_001


def rebuild_indexed(attrs: dict[str, Any], prefix: str) -> Any:
    """``prefix.0.role = "user"`` style keys -> a list of dicts (a dict when no key starts with an index)."""
    whole = attrs.get(prefix)
    if truthy(whole):
        return whole
    dotted = prefix + "."
    paths = [(k[len(dotted) :].split("."), v) for k, v in attrs.items() if k.startswith(dotted)]
    as_list = any(_INDEX_KEY.match(".".join(p)) for p, _ in paths)
    root: Any = [] if as_list else {}
    budget = [_MAX_SLOTS]
    for segments, value in paths:
        if as_list and not segments[0].isdigit():
            continue
        if any(s in _FORBIDDEN_SEGMENTS for s in segments):
            continue
        _set_path(root, segments, value, budget)
    return root


def _set_path(node: Any, segments: list[str], value: Any, budget: list[int]) -> None:
    for position, segment in enumerate(segments):
        last = position == len(segments) - 1
        if isinstance(node, list):
            if not segment.isdigit():
                return
            index = int(segment)
            if index >= len(node):
                if index + 1 - len(node) > budget[0]:
                    return
                budget[0] -= index + 1 - len(node)
                node.extend([None] * (index + 1 - len(node)))
            key: Any = index
        else:
            key = segment
        if last:
            node[key] = value
            return
        child = node[key] if (isinstance(node, list) or key in node) else None
        if not isinstance(child, list | dict):
            child = [] if segments[position + 1].isdigit() else {}
            node[key] = child
        node = child


# ---- metadata.attributes (§7.13.3) -------------------------------------------------------------------------

_IO_KEYS = frozenset(
    [
        "langfuse.trace.input",
        "langfuse.trace.output",
        "langfuse.observation.input",
        "langfuse.observation.output",
        "ai.prompt.messages",
        "ai.prompt",
        "ai.toolCall.args",
        "ai.response.text",
        "ai.result.text",
        "ai.toolCall.result",
        "ai.response.object",
        "ai.result.object",
        "ai.response.toolCalls",
        "ai.result.toolCalls",
        "gcp.vertex.agent.llm_request",
        "gcp.vertex.agent.llm_response",
        "gcp.vertex.agent.tool_call_args",
        "gcp.vertex.agent.tool_response",
        "prompt",
        "all_messages_events",
        "events",
        "lk.input_text",
        "lk.user_transcript",
        "lk.chat_ctx",
        "lk.user_input",
        "lk.function_tool.output",
        "lk.response.text",
        "mlflow.spanInputs",
        "mlflow.spanOutputs",
        "traceloop.entity.input",
        "traceloop.entity.output",
        "input.value",
        "output.value",
        "final_result",
        "pydantic_ai.all_messages",
        "gen_ai.system_instructions",
        "input",
        "output",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
        "genkit:input",
        "genkit:output",
        "flue.turn.input",
        "flue.turn.output",
        "flue.tool.arguments",
        "flue.tool.result",
        "flue.task.prompt",
        "flue.task.result",
        "flue.operation.result",
        "flue.workflow.payload",
        "flue.workflow.result",
    ]
)
_IO_PREFIXES = (
    "gen_ai.prompt",
    "gen_ai.completion",
    "llm.input_messages",
    "llm.output_messages",
    "langfuse.trace.metadata",
    "langfuse.observation.metadata",
    "ai.telemetry.metadata",
)


_KEPT: dict[str, bool] = {}  # attribute names repeat across spans: classify each name once (bounded)


def _kept(key: str) -> bool:
    kept = _KEPT.get(key)
    if kept is None:
        kept = key not in _IO_KEYS and not key.startswith(_IO_PREFIXES)
        if len(_KEPT) < 20_000:
            _KEPT[key] = kept
    return kept


def attributes_metadata(attrs: dict[str, Any]) -> dict[str, str]:
    """Every attribute not consumed as input/output or metadata keys, stringified."""
    return {
        key: value if isinstance(value, str) else json_text(value)
        for key, value in attrs.items()
        if _kept(key)
    }
