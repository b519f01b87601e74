"""Prompt clients: the local view of a text or chat prompt version, with compile()."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypedDict, Union

from langfuse_nb.sdk.prompts.compile import compile_template, find_variables, to_langchain_template

logger = logging.getLogger("langfuse_nb")


class ModelUsage(TypedDict):
    unit: str | None
    input: int | None
    output: int | None
    total: int | None
    input_cost: float | None
    output_cost: float | None
    total_cost: float | None


class ChatMessageDict(TypedDict):
    role: str
    content: str


class ChatMessagePlaceholderDict(TypedDict):
    role: str
    content: str


class ChatMessageWithPlaceholdersDict_Message(TypedDict):  # noqa: N801 - public name of the reference
    type: Literal["message"]
    role: str
    content: str


class ChatMessageWithPlaceholdersDict_Placeholder(TypedDict):  # noqa: N801
    type: Literal["placeholder"]
    name: str


ChatMessageWithPlaceholdersDict = Union[  # noqa: UP007 - runtime alias, keeps 3.10 happy
    ChatMessageWithPlaceholdersDict_Message, ChatMessageWithPlaceholdersDict_Placeholder
]

# snake_case attribute -> camelCase key as the wire (and plain dicts from the API) spell it
_WIRE_NAMES = {"commit_message": "commitMessage"}


def _field(source: Any, name: str, default: Any = None) -> Any:
    """Read ``name`` from a pydantic model, a plain object or a dict (snake or camel case)."""
    if isinstance(source, Mapping):
        if name in source:
            return source[name]
        return source.get(_WIRE_NAMES.get(name, name), default)
    return getattr(source, name, default)


class BasePromptClient:
    """Fields shared by text and chat prompts; built from an API ``Prompt`` model or a dict."""

    type: str = ""
    name: str
    version: int
    config: dict[str, Any]
    labels: list[str]
    tags: list[str]
    commit_message: str | None
    is_fallback: bool

    def __init__(self, prompt: Any, is_fallback: bool = False) -> None:
        self.name = _field(prompt, "name")
        self.version = _field(prompt, "version")
        self.config = _field(prompt, "config") or {}
        self.labels = list(_field(prompt, "labels") or [])
        self.tags = list(_field(prompt, "tags") or [])
        self.commit_message = _field(prompt, "commit_message")
        self.is_fallback = is_fallback

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, version={self.version!r}, "
            f"labels={self.labels!r}, is_fallback={self.is_fallback!r})"
        )


class TextPromptClient(BasePromptClient):
    """A text prompt; ``compile(**variables)`` returns the filled string."""

    type = "text"
    prompt: str

    def __init__(self, prompt: Any, is_fallback: bool = False) -> None:
        super().__init__(prompt, is_fallback)
        text = _field(prompt, "prompt")
        if not isinstance(text, str):
            raise ValueError(f"text prompt {self.name!r} must be a string, got {type(text).__name__}")
        self.prompt = text

    def compile(self, **variables: Any) -> str:
        return compile_template(self.prompt, variables)

    @property
    def variables(self) -> list[str]:
        return find_variables(self.prompt)

    def get_langchain_prompt(self, **variables: Any) -> str:
        """The template in LangChain ``PromptTemplate`` syntax; given variables are filled first."""
        text = compile_template(self.prompt, variables) if variables else self.prompt
        return to_langchain_template(text)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TextPromptClient):
            return False
        return (self.name, self.version, self.prompt, self.config) == (
            other.name,
            other.version,
            other.prompt,
            other.config,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable value object


class ChatPromptClient(BasePromptClient):
    """A chat prompt: messages and placeholders; ``compile()`` returns a list of message dicts."""

    type = "chat"
    prompt: list[ChatMessageWithPlaceholdersDict]

    def __init__(self, prompt: Any, is_fallback: bool = False) -> None:
        super().__init__(prompt, is_fallback)
        self.prompt = normalize_chat_messages(_field(prompt, "prompt"))

    def compile(self, **variables: Any) -> list[dict[str, Any]]:
        """Fill placeholders from lists of messages, then ``{{variables}}`` in every content."""
        compiled: list[dict[str, Any]] = []
        unresolved: list[str] = []
        for item in self.prompt:
            if item["type"] == "message":
                content = compile_template(item["content"], variables)  # type: ignore[typeddict-item]
                compiled.append({"role": item["role"], "content": content})  # type: ignore[typeddict-item]
            elif item["name"] in variables:  # type: ignore[typeddict-item]
                compiled.extend(_fill_placeholder(item["name"], variables))  # type: ignore[typeddict-item]
            else:
                compiled.append(dict(item))
                unresolved.append(item["name"])  # type: ignore[typeddict-item]
        if unresolved:
            logger.warning(
                "Placeholders %s have not been resolved. Pass them as keyword arguments to compile().",
                unresolved,
            )
        return compiled

    @property
    def variables(self) -> list[str]:
        names: list[str] = []
        for item in self.prompt:
            if item["type"] == "message":
                names.extend(find_variables(item["content"]))  # type: ignore[typeddict-item]
        return names

    def get_langchain_prompt(self, **variables: Any) -> list[Any]:
        """(role, template) tuples for LangChain; unresolved placeholders become ``MessagesPlaceholder``."""
        messages: list[Any] = []
        for message in self.compile(**variables):
            if message.get("type") == "placeholder":
                messages.append(_langchain_placeholder(message["name"]))
            elif "role" in message and "content" in message:
                messages.append((message["role"], to_langchain_template(message["content"])))
        return messages

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ChatPromptClient):
            return False
        return (self.name, self.version, self.prompt, self.config) == (
            other.name,
            other.version,
            other.prompt,
            other.config,
        )

    __hash__ = None  # type: ignore[assignment]


PromptClient = Union[TextPromptClient, ChatPromptClient]  # noqa: UP007


def normalize_chat_messages(messages: Any) -> list[ChatMessageWithPlaceholdersDict]:
    """Messages and placeholders as typed dicts; a malformed entry raises ValueError naming its index."""
    if not isinstance(messages, Sequence) or isinstance(messages, (str, bytes)):
        raise ValueError(f"chat prompt must be a list of messages, got {type(messages).__name__}")
    return [_normalize_chat_item(item, index) for index, item in enumerate(messages)]


def _normalize_chat_item(item: Any, index: int) -> ChatMessageWithPlaceholdersDict:
    if _field(item, "type") == "placeholder":
        name = _field(item, "name")
        if not isinstance(name, str) or not name:
            raise ValueError(f"chat message {index}: a placeholder needs a non-empty 'name'")
        return {"type": "placeholder", "name": name}
    role, content = _field(item, "role"), _field(item, "content")
    if not isinstance(role, str) or not isinstance(content, str):
        raise ValueError(
            f"chat message {index}: expected 'role' and 'content' strings or a placeholder, got {item!r}"
        )
    return {"type": "message", "role": role, "content": content}


def _fill_placeholder(name: str, variables: Mapping[str, Any]) -> list[dict[str, Any]]:
    value = variables[name]
    if not isinstance(value, list):
        logger.warning("Placeholder '%s' must contain a list of chat messages, got %s", name, type(value))
        return [{"role": "NOT_GIVEN", "content": str(value)}]
    filled: list[dict[str, Any]] = []
    for message in value:
        if isinstance(message, dict):
            # keep extra fields such as tool calls; role/content are always present
            content = message.get("content", "")
            filled.append(
                {
                    **message,
                    "role": message.get("role", "NOT_GIVEN"),
                    "content": compile_template(content, variables) if isinstance(content, str) else content,
                }
            )
        else:
            logger.warning(
                "Placeholder '%s' should contain a list of chat messages with 'role' and 'content' "
                "fields. Appended as string.",
                name,
            )
            filled.append({"role": "NOT_GIVEN", "content": str(value)})
    return filled


def _langchain_placeholder(name: str) -> Any:
    try:
        from langchain_core.prompts.chat import MessagesPlaceholder
    except ImportError as exc:
        error = ImportError(
            "langchain_core is required to use get_langchain_prompt() with unresolved placeholders."
        )
        if hasattr(error, "add_note"):  # 3.11+: a traceback note; the message stays the reference's
            error.add_note("Install it with: pip install 'langfuse-nb[langchain]'")
        raise error from exc
    return MessagesPlaceholder(variable_name=name)


def fallback_prompt(
    *, name: str, prompt: Any, type: str, version: int | None, label: str | None
) -> PromptClient:
    """A local prompt client used when fetching fails and the caller supplied a fallback."""
    fields = {
        "name": name,
        "prompt": prompt,
        "version": version or 0,
        "config": {},
        "labels": [label] if label else [],
        "tags": [],
    }
    client_type = ChatPromptClient if type == "chat" else TextPromptClient
    return client_type(fields, is_fallback=True)


def prompt_client_from_api(prompt: Any) -> PromptClient:
    """Wrap an API ``Prompt`` (model or dict) in the client of its type."""
    return ChatPromptClient(prompt) if _field(prompt, "type") == "chat" else TextPromptClient(prompt)
