"""Pure logic of the prompt editor: a draft built from a prompt version, validated into create_prompt()."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from langfuse_nb.sdk.prompts.compile import compile_template, find_variables

ROLES = ("system", "user", "assistant", "tool", "developer", "placeholder")


class DraftError(ValueError):
    """A draft that cannot be saved; the message is shown in the widget."""


@dataclass(frozen=True)
class Message:
    """One chat row; ``role == "placeholder"`` makes ``content`` the placeholder name."""

    role: str
    content: str

    def to_api(self) -> dict[str, str]:
        if self.role == "placeholder":
            return {"type": "placeholder", "name": self.content.strip()}
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class Draft:
    """The editable state of a prompt version (config stays text until saved, so typing is never lost)."""

    name: str
    type: str = "text"
    text: str = ""
    messages: tuple[Message, ...] = ()
    config_text: str = "{}"
    labels: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    commit_message: str = ""
    version: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _get(prompt: Any, name: str, default: Any = None) -> Any:
    value = prompt.get(name) if isinstance(prompt, Mapping) else getattr(prompt, name, None)
    return default if value is None else value


def _message(item: Any) -> Message:
    if _get(item, "type") == "placeholder":
        return Message("placeholder", str(_get(item, "name", "")))
    return Message(str(_get(item, "role", "user")), str(_get(item, "content", "")))


def draft_from_prompt(prompt: Any) -> Draft:
    """A draft of an API prompt or a prompt client (``.prompt`` is text or a message list)."""
    body = _get(prompt, "prompt", "")
    kind = "chat" if isinstance(body, list) else "text"
    return Draft(
        name=str(_get(prompt, "name", "")),
        type=kind,
        text=body if kind == "text" else "",
        messages=tuple(_message(m) for m in body) if kind == "chat" else (),
        config_text=json.dumps(_get(prompt, "config", {}), indent=2, sort_keys=True),
        labels=(),  # labels to give the *new* version; the loaded version's labels are shown separately
        tags=tuple(_get(prompt, "tags", ())),
        commit_message="",
        version=_get(prompt, "version"),
    )


def variables(draft: Draft) -> list[str]:
    """Distinct ``{{variables}}`` in order of first use (placeholders are not variables)."""
    texts = (
        [draft.text]
        if draft.type == "text"
        else [m.content for m in draft.messages if m.role != "placeholder"]
    )
    seen: dict[str, None] = {}
    for text in texts:
        seen.update(dict.fromkeys(find_variables(text)))
    return list(seen)


def placeholders(draft: Draft) -> list[str]:
    return [m.content for m in draft.messages if m.role == "placeholder"] if draft.type == "chat" else []


def preview(draft: Draft, values: Mapping[str, str]) -> str:
    """The compiled prompt as plain text (chat: one ``role: content`` block per message)."""
    filled = {key: val for key, val in values.items() if val != ""}
    if draft.type == "text":
        return compile_template(draft.text, filled)
    blocks = [
        f"[placeholder: {m.content}]"
        if m.role == "placeholder"
        else f"{m.role}: {compile_template(m.content, filled)}"
        for m in draft.messages
    ]
    return "\n\n".join(blocks)


def body_text(draft: Draft) -> str:
    """The prompt itself as text (chat: one ``[role] content`` line per message)."""
    if draft.type == "text":
        return draft.text
    return "\n".join(f"[{m.role}] {m.content}" for m in draft.messages)


def as_text(draft: Draft) -> str:
    """Everything that makes a version, as lines to diff."""
    return f"{body_text(draft)}\n\n--- config ---\n{draft.config_text}"


def parse_config(text: str) -> dict[str, Any]:
    try:
        config = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise DraftError(
            f"config is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(config, dict):
        raise DraftError("config must be a JSON object")
    return config


def create_kwargs(draft: Draft) -> dict[str, Any]:
    """Arguments of ``Langfuse.create_prompt`` for a new version of this draft."""
    if not draft.name.strip():
        raise DraftError("the prompt needs a name")
    if draft.type == "text" and not draft.text.strip():
        raise DraftError("the prompt text is empty: write the prompt first")
    if draft.type == "chat" and not draft.messages:
        raise DraftError("a chat prompt needs at least one message")
    if any(m.role == "placeholder" and not m.content.strip() for m in draft.messages):
        raise DraftError("a placeholder needs a name")
    if draft.type == "chat" and not any(m.content.strip() for m in draft.messages):
        raise DraftError("every message is empty: write at least one")
    body: Any = draft.text if draft.type == "text" else [m.to_api() for m in draft.messages]
    return {
        "name": draft.name.strip(),
        "prompt": body,
        "type": draft.type,
        "config": parse_config(draft.config_text),
        "labels": list(draft.labels),
        "tags": list(draft.tags),
        "commit_message": draft.commit_message or None,
    }


# ---- chat row edits (pure: return a new tuple) ---------------------------------------------------
def add_message(messages: tuple[Message, ...], role: str = "user") -> tuple[Message, ...]:
    return (*messages, Message(role, ""))


def remove_message(messages: tuple[Message, ...], index: int) -> tuple[Message, ...]:
    return messages[:index] + messages[index + 1 :]


def move_message(messages: tuple[Message, ...], index: int, step: int) -> tuple[Message, ...]:
    target = index + step
    if not 0 <= target < len(messages):
        return messages
    items = list(messages)
    items[index], items[target] = items[target], items[index]
    return tuple(items)


def set_message(messages: tuple[Message, ...], index: int, **changes: str) -> tuple[Message, ...]:
    items = list(messages)
    items[index] = replace(items[index], **changes)
    return tuple(items)


def split_csv(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())
