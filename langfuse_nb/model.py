"""Public prompt types (mirrors ``langfuse.model``); API models come lazily from ``langfuse_nb.api``."""

from __future__ import annotations

import importlib
from typing import Any

from langfuse_nb.logger import langfuse_logger
from langfuse_nb.sdk.prompts.clients import (
    BasePromptClient,
    ChatMessageDict,
    ChatMessagePlaceholderDict,
    ChatMessageWithPlaceholdersDict,
    ChatMessageWithPlaceholdersDict_Message,
    ChatMessageWithPlaceholdersDict_Placeholder,
    ChatPromptClient,
    ModelUsage,
    PromptClient,
    TextPromptClient,
)
from langfuse_nb.sdk.prompts.compile import TemplateParser

# API model names that ``langfuse.model`` also exposes; resolved on first access.
_API_MODELS = {
    "Dataset",
    "DatasetItem",
    "DatasetRun",
    "DatasetStatus",
    "MapValue",
    "Observation",
    "TraceWithFullDetails",
    "CreateDatasetItemRequest",
    "CreateDatasetRunItemRequest",
    "CreateDatasetRequest",
    "Prompt",
    "Prompt_Chat",
    "Prompt_Text",
}

__all__ = [
    "BasePromptClient",
    "ChatMessageDict",
    "ChatMessagePlaceholderDict",
    "ChatMessageWithPlaceholdersDict",
    "ChatMessageWithPlaceholdersDict_Message",
    "ChatMessageWithPlaceholdersDict_Placeholder",
    "ChatPromptClient",
    "ModelUsage",
    "PromptClient",
    "TextPromptClient",
    "TemplateParser",
    "langfuse_logger",
]


def __getattr__(name: str) -> Any:
    if name not in _API_MODELS:
        raise AttributeError(f"module 'langfuse_nb.model' has no attribute {name!r}")
    value = getattr(importlib.import_module("langfuse_nb.api"), name)
    globals()[name] = value
    return value
