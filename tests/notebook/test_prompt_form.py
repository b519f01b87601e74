"""Pure prompt-editor logic: drafts from prompts, variables, preview, validation, chat row edits."""

from __future__ import annotations

import pytest

from langfuse_nb.notebook import prompt_form as F

TEXT = {
    "name": "greet",
    "version": 2,
    "type": "text",
    "prompt": "Hi {{ name }}, {{mood}} {{name}}?",
    "config": {"model": "m", "temperature": 0.2},
    "labels": ["production"],
    "tags": ["t"],
}
CHAT = {
    "name": "chat",
    "version": 1,
    "type": "chat",
    "config": {},
    "labels": [],
    "tags": [],
    "prompt": [
        {"role": "system", "content": "You are {{persona}}."},
        {"type": "placeholder", "name": "history"},
        {"role": "user", "content": "{{question}}"},
    ],
}


def test_text_draft_variables_preview() -> None:
    draft = F.draft_from_prompt(TEXT)
    assert (draft.type, draft.version, draft.tags, draft.labels) == ("text", 2, ("t",), ())
    assert F.variables(draft) == ["name", "mood"]
    assert F.preview(draft, {"name": "Ada", "mood": ""}) == "Hi Ada, {{mood}} Ada?"
    assert '"temperature": 0.2' in draft.config_text


def test_chat_draft_variables_placeholders_preview() -> None:
    draft = F.draft_from_prompt(CHAT)
    assert [m.role for m in draft.messages] == ["system", "placeholder", "user"]
    assert F.variables(draft) == ["persona", "question"]
    assert F.placeholders(draft) == ["history"]
    assert F.preview(draft, {"persona": "terse", "question": "why?"}) == (
        "system: You are terse.\n\n[placeholder: history]\n\nuser: why?"
    )


def test_create_kwargs_round_trip() -> None:
    draft = F.Draft(**{**F.draft_from_prompt(CHAT).__dict__, "labels": ("staging",), "commit_message": "c"})
    kwargs = F.create_kwargs(draft)
    assert kwargs["prompt"][1] == {"type": "placeholder", "name": "history"}
    assert kwargs["labels"] == ["staging"] and kwargs["commit_message"] == "c" and kwargs["type"] == "chat"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"config_text": "{not json"}, "config is not valid JSON"),
        ({"config_text": "[1]"}, "config must be a JSON object"),
        ({"name": " "}, "needs a name"),
        ({"type": "chat", "messages": ()}, "at least one message"),
        ({"type": "chat", "messages": (F.Message("placeholder", " "),)}, "placeholder needs a name"),
    ],
)
def test_invalid_drafts(changes: dict, message: str) -> None:
    draft = F.Draft(**{**F.draft_from_prompt(TEXT).__dict__, **changes})
    with pytest.raises(F.DraftError, match=message):
        F.create_kwargs(draft)


def test_chat_row_edits() -> None:
    rows = F.draft_from_prompt(CHAT).messages
    rows = F.add_message(rows, "assistant")
    assert rows[-1] == F.Message("assistant", "")
    rows = F.move_message(rows, 3, -1)
    assert [m.role for m in rows] == ["system", "placeholder", "assistant", "user"]
    assert F.move_message(rows, 0, -1) == rows
    rows = F.set_message(F.remove_message(rows, 1), 0, content="x")
    assert rows[0] == F.Message("system", "x") and len(rows) == 3


def test_as_text_for_diff() -> None:
    assert F.as_text(F.draft_from_prompt(CHAT)).startswith(
        "[system] You are {{persona}}.\n[placeholder] history"
    )
