"""Prompts (`/api/public/v2/prompts`): text and chat variants, create requests, list metadata."""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Tag, model_validator

from ._base import Datetime, WireModel
from .utils import MetaResponse


class PromptType(str, enum.Enum):
    CHAT = "chat"
    TEXT = "text"


class ChatMessage(WireModel):
    role: str
    content: str


class PlaceholderMessage(WireModel):
    name: str


def _fields_of_model(data: Any) -> Any:
    """A plain ``ChatMessage`` / ``PlaceholderMessage`` object (what users build, as with the reference's
    models) becomes its fields, so the tagged variant accepts it; anything else passes unchanged."""
    if isinstance(data, (ChatMessage, PlaceholderMessage)):
        return {**data.model_dump(exclude_unset=True), **(data.model_extra or {})}
    return data


class ChatMessageWithPlaceholders_Chatmessage(ChatMessage):
    type: Literal["chatmessage"] = "chatmessage"

    _from_message = model_validator(mode="before")(_fields_of_model)


class ChatMessageWithPlaceholders_Placeholder(PlaceholderMessage):
    type: Literal["placeholder"] = "placeholder"

    _from_placeholder = model_validator(mode="before")(_fields_of_model)


def _tag_of(value: Any, default_from: Any = None) -> str | None:
    """The ``type`` of a dict or model; ``default_from(value)`` when it has none (servers may omit it)."""
    tag = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if isinstance(tag, enum.Enum):
        tag = tag.value
    if tag is None and default_from is not None:
        tag = default_from(value)
    return tag


def _message_kind(value: Any) -> str:
    """An untagged message: a ``PlaceholderMessage`` object is a placeholder, anything else a chat message."""
    return "placeholder" if isinstance(value, PlaceholderMessage) else "chatmessage"


def _prompt_kind(value: Any) -> str:
    """Text or chat, judged from the ``prompt`` payload when ``type`` is missing."""
    prompt = value.get("prompt") if isinstance(value, dict) else getattr(value, "prompt", None)
    return "text" if isinstance(prompt, str) else "chat"


ChatMessageWithPlaceholders = Annotated[
    Annotated[ChatMessageWithPlaceholders_Chatmessage, Tag("chatmessage")]
    | Annotated[ChatMessageWithPlaceholders_Placeholder, Tag("placeholder")],
    Discriminator(lambda v: _tag_of(v, _message_kind)),
]


class BasePrompt(WireModel):
    name: str
    version: int
    config: Any = None
    labels: list[str]
    tags: list[str]
    commit_message: str | None = None
    resolution_graph: dict[str, Any] | None = None


class TextPrompt(BasePrompt):
    prompt: str


class ChatPrompt(BasePrompt):
    prompt: list[ChatMessageWithPlaceholders]


class Prompt_Text(TextPrompt):
    type: Literal["text"] = "text"


class Prompt_Chat(ChatPrompt):
    type: Literal["chat"] = "chat"


Prompt = Annotated[
    Annotated[Prompt_Chat, Tag("chat")] | Annotated[Prompt_Text, Tag("text")],
    Discriminator(lambda v: _tag_of(v, _prompt_kind)),
]


class _CreatePromptFields(WireModel):
    name: str
    config: Any = None
    labels: list[str] | None = None
    tags: list[str] | None = None
    commit_message: str | None = None


class CreateTextPromptRequest(_CreatePromptFields):
    prompt: str


class CreateChatPromptRequest(_CreatePromptFields):
    prompt: list[ChatMessageWithPlaceholders]


class CreatePromptRequest_Text(CreateTextPromptRequest):
    type: Literal["text"] = "text"


class CreatePromptRequest_Chat(CreateChatPromptRequest):
    type: Literal["chat"] = "chat"


CreatePromptRequest = Annotated[
    Annotated[CreatePromptRequest_Chat, Tag("chat")] | Annotated[CreatePromptRequest_Text, Tag("text")],
    Discriminator(lambda v: _tag_of(v, _prompt_kind)),
]


class PromptMeta(WireModel):
    name: str
    type: PromptType
    versions: list[int]
    labels: list[str]
    tags: list[str]
    last_updated_at: Datetime
    last_config: Any = None


class PromptMetaListResponse(WireModel):
    data: list[PromptMeta]
    meta: MetaResponse


__all__ = [
    "BasePrompt",
    "ChatMessage",
    "ChatMessageWithPlaceholders",
    "ChatMessageWithPlaceholders_Chatmessage",
    "ChatMessageWithPlaceholders_Placeholder",
    "ChatPrompt",
    "CreateChatPromptRequest",
    "CreatePromptRequest",
    "CreatePromptRequest_Chat",
    "CreatePromptRequest_Text",
    "CreateTextPromptRequest",
    "PlaceholderMessage",
    "Prompt",
    "PromptMeta",
    "PromptMetaListResponse",
    "PromptType",
    "Prompt_Chat",
    "Prompt_Text",
    "TextPrompt",
]
