"""Pure extraction for the OpenAI drop-in: call kwargs -> input and parameters, response -> output, usage.

Works on the ``openai`` SDK's objects through duck typing (``model_dump``, attributes), so importing this
module does not import ``openai``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# keyword arguments the drop-in consumes; they never reach OpenAI (``metadata`` only with ``store=True``)
LANGFUSE_KWARGS = (
    "name",
    "metadata",
    "langfuse_prompt",
    "langfuse_public_key",
    "trace_id",
    "parent_observation_id",
    "session_id",
    "user_id",
    "tags",
)
# the reference also reports max_tokens=inf when not given; an infinite float is neither useful to read nor
# cheap to serialize (JSON has no infinity), so we report max_tokens only when the call sets it
_CHAT_DEFAULTS = {"temperature": 1, "top_p": 1, "frequency_penalty": 0}


@dataclass(frozen=True)
class Endpoint:
    """One wrapped OpenAI method: which resource, and what kind of call it is."""

    module: str
    cls: str
    method: str
    kind: str  # chat | completion | embedding | responses

    @property
    def as_type(self) -> str:
        return "embedding" if self.kind == "embedding" else "generation"

    @property
    def default_name(self) -> str:
        return "OpenAI-embedding" if self.kind == "embedding" else "OpenAI-generation"


def given(value: Any) -> bool:
    """False for None and the SDK's ``NOT_GIVEN`` / ``omit`` sentinels."""
    return value is not None and type(value).__name__ not in ("NotGiven", "Omit")


def split_kwargs(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(our keyword arguments, the ones passed on to OpenAI)."""
    ours = {key: kwargs.pop(key) for key in LANGFUSE_KWARGS if key in kwargs}
    metadata = ours.get("metadata")
    if metadata is not None and not isinstance(metadata, Mapping):
        dump = getattr(metadata, "model_dump", None)
        metadata = dump() if callable(dump) else None
    if kwargs.get("store") and metadata is not None:  # stored completions (distillation) keep metadata
        kwargs["metadata"] = dict(metadata)
    if given(kwargs.get("response_format")):
        metadata = {**(metadata or {}), "response_format": _schema(kwargs["response_format"])}
    ours["metadata"] = dict(metadata) if metadata else None
    _check_types(ours)
    return ours, kwargs


def _schema(response_format: Any) -> Any:
    schema = getattr(response_format, "model_json_schema", None)
    return schema() if isinstance(response_format, type) and callable(schema) else response_format


def _check_types(ours: dict[str, Any]) -> None:
    """Wrong types are the caller's mistake: raise like the reference does, before any request."""
    for key in ("name", "langfuse_public_key", "trace_id", "parent_observation_id", "session_id", "user_id"):
        if ours.get(key) is not None and not isinstance(ours[key], str):
            raise TypeError(f"{key} must be a string")
    tags = ours.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        raise TypeError("tags must be a list of strings")
    if ours.get("parent_observation_id") is not None and ours.get("trace_id") is None:
        raise ValueError("parent_observation_id requires trace_id to be set")


def call_input(endpoint: Endpoint, kwargs: dict[str, Any]) -> Any:
    if endpoint.kind == "completion":
        return kwargs.get("prompt")
    if endpoint.kind in ("embedding", "responses"):
        return kwargs.get("input")
    messages = list(kwargs.get("messages") or ())
    extras = {k: kwargs[k] for k in ("functions", "function_call", "tools") if given(kwargs.get(k))}
    return {**extras, "messages": messages} if extras else messages


def model_parameters(endpoint: Endpoint, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The reference's parameter set: sampling defaults for generations, size/format for embeddings."""
    if endpoint.kind == "embedding":
        params = {"dimensions": kwargs.get("dimensions")} if given(kwargs.get("dimensions")) else {}
        encoding = kwargs.get("encoding_format")
        return {**params, "encoding_format": encoding} if given(encoding) and encoding != "float" else params
    params = {
        key: kwargs[key] if given(kwargs.get(key)) else default for key, default in _CHAT_DEFAULTS.items()
    }
    params["presence_penalty"] = kwargs["presence_penalty"] if given(kwargs.get("presence_penalty")) else 0
    if given(kwargs.get("max_completion_tokens")):
        params["max_completion_tokens"] = kwargs["max_completion_tokens"]
    elif given(kwargs.get("max_tokens")):
        params["max_tokens"] = kwargs["max_tokens"]
    if isinstance(kwargs.get("n"), int) and kwargs["n"] > 1:
        params["n"] = kwargs["n"]
    if given(kwargs.get("seed")):
        params["seed"] = kwargs["seed"]
    return params


# ---- responses ---------------------------------------------------------------------------------------------


def as_dict(value: Any) -> Any:
    """An SDK object as plain data (pydantic ``model_dump``), dicts and lists recursively."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(exclude_none=True)
    if isinstance(value, Mapping):
        return {k: as_dict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_dict(v) for v in value]
    return value


def usage_details(usage: Any) -> dict[str, Any] | None:
    """The response's usage as sent to Langfuse (the server converts OpenAI's key names)."""
    if usage is None:
        return None
    data = as_dict(usage)
    if not isinstance(data, dict):
        return None
    data = {k: v for k, v in data.items() if v is not None and k != "cost"}
    if data.keys() == {"prompt_tokens", "total_tokens"}:  # embeddings: only input tokens
        return {"input": data["prompt_tokens"]}
    return data


def cost_details(usage: Any) -> dict[str, float] | None:
    """Providers that report a cost (OpenRouter's ``usage.cost``) set it instead of the price table."""
    cost = getattr(usage, "cost", None)
    if cost is None and isinstance(usage, Mapping):
        cost = usage.get("cost")
    return {"total": cost} if isinstance(cost, float) else None


def response_fields(endpoint: Endpoint, response: Any) -> dict[str, Any]:
    """Model, output, usage and cost of a non-streamed response."""
    usage = getattr(response, "usage", None)
    return {
        "model": getattr(response, "model", None) or None,
        "output": _OUTPUTS[endpoint.kind](response),
        "usage_details": usage_details(usage),
        "cost_details": cost_details(usage),
    }


def _chat_output(response: Any) -> Any:
    choices = list(getattr(response, "choices", None) or ())
    messages = [_message(getattr(c, "message", None)) for c in choices]
    if not messages:
        return None
    return messages[0] if len(messages) == 1 else messages


def _message(message: Any) -> dict[str, Any]:
    data = as_dict(message) or {}
    result = {"role": data.get("role")}
    for key in ("function_call", "tool_calls"):
        if data.get(key) is not None:
            result[key] = data[key]
    result["content"] = data.get("content")
    if data.get("audio") is not None:
        result["audio"] = data["audio"]
    return result


def _completion_output(response: Any) -> Any:
    choices = list(getattr(response, "choices", None) or ())
    return getattr(choices[-1], "text", None) if choices else None


def _responses_output(response: Any) -> Any:
    output = as_dict(getattr(response, "output", None))
    if isinstance(output, list):
        return output[0] if len(output) == 1 else (output or None)
    return output


def _embedding_output(response: Any) -> Any:
    data = list(getattr(response, "data", None) or ())
    if not data:
        return None
    vector = getattr(data[0], "embedding", None) or []
    return {"dimensions": len(vector), "count": len(data)}


_OUTPUTS = {
    "chat": _chat_output,
    "completion": _completion_output,
    "responses": _responses_output,
    "embedding": _embedding_output,
}


# ---- streams -----------------------------------------------------------------------------------------------


def stream_fields(endpoint: Endpoint, chunks: Iterable[Any]) -> dict[str, Any]:
    """Model, output, usage (from the final chunk) and cost of a consumed stream."""
    if endpoint.kind == "responses":
        return _responses_stream(chunks)
    model, usage = None, None
    chat = _ChatAccumulator()
    text: list[str] = []
    for chunk in chunks:
        model = model or getattr(chunk, "model", None) or None
        usage = getattr(chunk, "usage", None) or usage
        for choice in getattr(chunk, "choices", None) or ():
            if endpoint.kind == "chat":
                chat.add(getattr(choice, "delta", None))
            else:
                text.append(getattr(choice, "text", None) or "")
    output = chat.result() if endpoint.kind == "chat" else "".join(text)
    return {
        "model": model,
        "output": output,
        "usage_details": usage_details(usage),
        "cost_details": cost_details(usage),
    }


def _responses_stream(chunks: Iterable[Any]) -> dict[str, Any]:
    """The last event that carries the whole response (``response.completed``) has everything."""
    final = None
    for chunk in chunks:
        final = getattr(chunk, "response", None) or final
    if final is None:
        return {}
    fields = response_fields(Endpoint("", "", "", "responses"), final)
    skipped = {"created_at", "model", "output", "usage", "text"}
    extra = {k: v for k, v in (as_dict(final) or {}).items() if k not in skipped}
    return {**fields, "metadata": extra or None}


class _ChatAccumulator:
    """Joins chat deltas: content text, and tool calls by index (names and argument fragments)."""

    def __init__(self) -> None:
        self.role: str | None = None
        self.content: list[str] = []
        self.tool_calls: dict[int, dict[str, Any]] = {}
        self.function_call: dict[str, str] | None = None

    def add(self, delta: Any) -> None:
        if delta is None:
            return
        self.role = getattr(delta, "role", None) or self.role
        if getattr(delta, "content", None):
            self.content.append(delta.content)
        for call in getattr(delta, "tool_calls", None) or ():
            self._add_tool_call(call)
        function = getattr(delta, "function_call", None)
        if function is not None:
            current = self.function_call or {"name": "", "arguments": ""}
            current["name"] = current["name"] or getattr(function, "name", None) or ""
            current["arguments"] += getattr(function, "arguments", None) or ""
            self.function_call = current

    def _add_tool_call(self, call: Any) -> None:
        index = getattr(call, "index", None)
        index = len(self.tool_calls) if index is None else index
        entry = self.tool_calls.setdefault(
            index, {"id": None, "type": "function", "name": "", "arguments": ""}
        )
        entry["id"] = getattr(call, "id", None) or entry["id"]
        function = getattr(call, "function", None)
        if function is not None:
            entry["name"] = entry["name"] or getattr(function, "name", None) or ""
            entry["arguments"] += getattr(function, "arguments", None) or ""

    def result(self) -> Any:
        if self.content:
            return "".join(self.content)
        if self.function_call is not None:
            return {"role": self.role or "assistant", "function_call": self.function_call}
        if self.tool_calls:
            calls = [
                {
                    "id": c["id"],
                    "type": c["type"],
                    "function": {"name": c["name"], "arguments": c["arguments"]},
                }
                for _, c in sorted(self.tool_calls.items())
            ]
            return {"role": self.role or "assistant", "tool_calls": calls}
        return None
