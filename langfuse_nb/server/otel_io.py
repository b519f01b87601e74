"""Input and output of third-party spans (otel-ingestion-mapping.md §7.12, §7.13.3).

The first source, in the spec's order of steps, that yields an input or an output decides both; attributes
not consumed as input/output stay in ``metadata.attributes``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from langfuse_nb.server.otel_values import decode, json_text, stringify, truthy

IO = tuple[Any, Any]


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


# ---- tool definitions moved from metadata into the input (§7.13.4) -----------------------------------------

_TOOL_SCHEMA = re.compile(r"^llm\.tools\.(\d+)\.tool\.json_schema$")


def _named_tool(item: Any) -> dict[str, Any] | None:
    item = decode(item)
    if not isinstance(item, dict):
        return None
    named = isinstance(item.get("name"), str) or isinstance(_function_name(item), str)
    return item if named else None


def _function_name(item: dict[str, Any]) -> Any:
    function = item.get("function")
    return function.get("name") if isinstance(function, dict) else None


def _tool_name(tool: dict[str, Any]) -> Any:
    return tool.get("name") if isinstance(tool.get("name"), str) else _function_name(tool)


def _all_named(value: Any, allow_typed: bool = False) -> list[dict[str, Any]] | None:
    items = decode(value)
    if not isinstance(items, list) or not items:
        return None
    tools = [_named_tool(i) or (decode(i) if allow_typed and _is_typed(decode(i)) else None) for i in items]
    return tools if all(t is not None for t in tools) else None  # type: ignore[return-value]


def _is_typed(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("type"), str)


def _tools_from_attributes(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for key, typed in (("ai.prompt.tools", True), ("gen_ai.tool.definitions", False)):
        tools = _all_named(attributes.get(key), allow_typed=typed) if key in attributes else None
        if tools:
            found += tools
            del attributes[key]
    parameters = decode(attributes.get("model_request_parameters"))
    if isinstance(parameters, dict):
        tools = _all_named(parameters.get("function_tools"))
        if tools:
            found += tools
            rest = {k: v for k, v in parameters.items() if k != "function_tools"}
            attributes["model_request_parameters"] = json_text(rest)
    indexed = sorted((int(m.group(1)), k) for k in attributes if (m := _TOOL_SCHEMA.match(k)))
    for _, key in indexed:
        tool = _named_tool(attributes[key])
        if tool is not None:
            found.append(tool)
            del attributes[key]
    return found


_TOOL_KEYS = frozenset({"ai.prompt.tools", "gen_ai.tool.definitions", "model_request_parameters"})


def _has_tool_keys(attributes: dict[str, Any]) -> bool:
    return not _TOOL_KEYS.isdisjoint(attributes) or any(k.startswith("llm.tools.") for k in attributes)


def move_tool_definitions(metadata: dict[str, Any], given_input: Any) -> Any:
    """Take tool definitions out of the metadata and put them into the input; returns the new input."""
    attributes = metadata.get("attributes")
    if "tools" not in metadata and not (isinstance(attributes, dict) and _has_tool_keys(attributes)):
        return given_input  # the usual case, decided without copying anything
    tools: list[dict[str, Any]] = []
    own = _all_named(metadata.get("tools")) if "tools" in metadata else None
    before = {k: (dict(v) if isinstance(v, dict) else v) for k, v in metadata.items()}
    tools += own or []
    if own:
        del metadata["tools"]
    if isinstance(attributes, dict):
        tools += _tools_from_attributes(attributes)
        if not attributes:
            del metadata["attributes"]
    unique = list({_tool_name(t): t for t in reversed(tools)}.values())[::-1]  # first of each name wins
    changed = _with_tools(given_input, unique) if unique else None
    if changed is None:
        metadata.clear()
        metadata.update(before)
        return given_input
    return changed


def _with_tools(given_input: Any, tools: list[dict[str, Any]]) -> Any:
    """The input with ``tools``, or None when the input cannot take them (§7.13.4 table)."""
    value = decode(given_input) if isinstance(given_input, str) else given_input
    if isinstance(given_input, str) and value is given_input:
        return json_text({"prompt": given_input, "tools": tools})
    if value is None:
        result: Any = {"tools": tools}
    elif isinstance(value, list):
        result = {"messages": value, "tools": tools}
    elif isinstance(value, dict):
        result = _merge_tools(value, tools)
        if result is None:
            return None
    else:
        return None
    return json_text(result)


def _merge_tools(value: dict[str, Any], tools: list[dict[str, Any]]) -> dict[str, Any] | None:
    if "tools" not in value:
        return {**value, "tools": tools}
    existing = decode(value["tools"])
    if not isinstance(existing, list):
        return None
    kept = [t for t in existing if _named_tool(t) is not None or _is_typed(decode(t))]
    if existing and not kept:
        return None
    names = {_tool_name(decode(t)) for t in kept if isinstance(decode(t), dict)}
    return {**value, "tools": [*kept, *(t for t in tools if _tool_name(t) not in names)]}
