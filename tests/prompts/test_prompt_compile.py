"""Pure tests of prompt compilation, variables and LangChain conversion (reference SDK as oracle)."""

from __future__ import annotations

import logging
import random

import pytest

from langfuse_nb.model import ChatPromptClient, TextPromptClient
from langfuse_nb.sdk.prompts.compile import (
    compile_template,
    escape_json_braces,
    find_variables,
    to_langchain_template,
)

ref_model = pytest.importorskip("langfuse.model")
ref_prompts = pytest.importorskip("langfuse.api.resources.prompts")

TEXT_CASES = [
    ("Hello {{name}}", {"name": "Ada"}, "Hello Ada"),
    ("Hello {{ name }}", {"name": "Ada"}, "Hello Ada"),  # spaces around the name
    ("{{a}}{{b}}", {"a": 1, "b": 2.5}, "12.5"),
    ("{{unknown}} stays", {"name": "x"}, "{{unknown}} stays"),
    ("{{x}}", {"x": "{{y}}", "y": "no"}, "{{y}}"),  # substituted values are not re-scanned
    ("{{ {{inner}} }}", {"inner": "v"}, "{{ {{inner}} }}"),  # K6: nested braces untouched
    ("{{x}}", {"x": None}, ""),
    ("{{x}}", {"x": {"k": [1]}}, "{'k': [1]}"),
    ("no vars", {"x": 1}, "no vars"),
    ("open {{x", {"x": 1}, "open {{x"),
    ("{{}}", {"": "empty"}, "empty"),
    ("{{a b}}", {"a b": "spaced"}, "spaced"),
    ("multi\n{{ x\n}}", {"x": "line"}, "multi\nline"),
]


@pytest.mark.parametrize(("template", "variables", "expected"), TEXT_CASES)
def test_compile_table_matches_reference(template: str, variables: dict, expected: str) -> None:
    ours = TextPromptClient({"name": "p", "version": 1, "prompt": template})
    ref = ref_model.TextPromptClient(
        ref_prompts.Prompt_Text(name="p", version=1, prompt=template, config={}, labels=[], tags=[])
    )
    assert ours.compile(**variables) == expected
    assert ours.compile(**variables) == ref.compile(**variables)
    assert ours.variables == ref.variables


def test_random_templates_match_reference() -> None:
    rng = random.Random(7)
    pieces = ["{", "}", "{{", "}}", " ", "a", "b", '"', "'", "x", "\n", "c d", "{{a}}", "{{ b }}", ":"]
    data = {"a": 1, "b": None, "x": "{{a}}", "c d": "Z", "{{a": "Q", "": "E"}
    parser = ref_model.TemplateParser
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        assert find_variables(text) == parser.find_variable_names(text)
        assert compile_template(text, data) == parser.compile_template(text, data)
        assert escape_json_braces(text) == ref_model.BasePromptClient._escape_json_for_langchain(text)
        assert to_langchain_template(text) == ref_model.BasePromptClient._get_langchain_prompt_string(text)


def _chat(messages: list) -> tuple[ChatPromptClient, object]:
    ours = ChatPromptClient({"name": "c", "version": 2, "prompt": messages, "type": "chat"})
    ref = ref_model.ChatPromptClient(
        ref_prompts.Prompt_Chat(name="c", version=2, prompt=messages, config={}, labels=[], tags=[])
    )
    return ours, ref


CHAT = [
    {"role": "system", "content": "You are {{ persona }}."},
    {"type": "placeholder", "name": "history"},
    {"role": "user", "content": "{{question}}"},
]


def test_chat_compile_fills_placeholders_and_variables() -> None:
    ours, ref = _chat(CHAT)
    history = [
        {"role": "user", "content": "hi {{persona}}", "name": "u1"},
        {"role": "assistant", "content": "yo"},
    ]
    kwargs = {"persona": "a pirate", "question": "why?", "history": history}
    assert ours.compile(**kwargs) == ref.compile(**kwargs)
    assert ours.compile(**kwargs)[1] == {"role": "user", "content": "hi a pirate", "name": "u1"}
    assert ours.variables == ref.variables == ["persona", "question"]


def test_chat_unresolved_placeholder_kept(caplog: pytest.LogCaptureFixture) -> None:
    ours, ref = _chat(CHAT)
    with caplog.at_level(logging.WARNING, logger="langfuse_nb"):
        compiled = ours.compile(persona="x")
    assert compiled == ref.compile(persona="x")
    assert compiled[1] == {"type": "placeholder", "name": "history"}
    assert "history" in caplog.text


@pytest.mark.parametrize("value", ["just a string", ["not a dict"], []])
def test_chat_odd_placeholder_values_match_reference(value: object) -> None:
    ours, ref = _chat(CHAT)
    assert ours.compile(history=value) == ref.compile(history=value)


def test_chat_message_without_role_gets_not_given() -> None:
    ours, ref = _chat(CHAT)
    assert ours.compile(history=[{"content": "c"}]) == ref.compile(history=[{"content": "c"}])


def test_malformed_chat_message_names_its_index() -> None:
    with pytest.raises(ValueError, match="chat message 1"):
        ChatPromptClient(
            {"name": "c", "version": 1, "prompt": [{"role": "a", "content": "b"}, {"role": "x"}]}
        )
    with pytest.raises(ValueError, match="chat message 0"):
        ChatPromptClient({"name": "c", "version": 1, "prompt": [{"type": "placeholder"}]})


def test_langchain_conversion_matches_reference() -> None:
    text = 'Return {"a": "{{x}}"} for {{ y }} and {z}'
    ours = TextPromptClient({"name": "p", "version": 1, "prompt": text})
    ref = ref_model.TextPromptClient(
        ref_prompts.Prompt_Text(name="p", version=1, prompt=text, config={}, labels=[], tags=[])
    )
    assert ours.get_langchain_prompt() == ref.get_langchain_prompt()
    assert ours.get_langchain_prompt(y="Y") == ref.get_langchain_prompt(y="Y")
    chat, ref_chat = _chat(CHAT)
    history = [{"role": "user", "content": "{{question}}"}]
    assert chat.get_langchain_prompt(history=history) == ref_chat.get_langchain_prompt(history=history)


def test_prompt_client_fields_and_equality() -> None:
    data = {
        "name": "p",
        "version": 3,
        "prompt": "t",
        "config": {"model": "m"},
        "labels": ["production"],
        "tags": ["a"],
        "commitMessage": "why",
    }
    client = TextPromptClient(data)
    assert (client.name, client.version, client.config, client.labels, client.tags) == (
        "p",
        3,
        {"model": "m"},
        ["production"],
        ["a"],
    )
    assert client.commit_message == "why" and client.is_fallback is False
    assert client == TextPromptClient(dict(data))
    assert client != TextPromptClient({**data, "version": 4})


def test_public_model_surface() -> None:
    import langfuse_nb.model as model

    for name in (
        "TextPromptClient",
        "ChatPromptClient",
        "ChatMessageDict",
        "PromptClient",
        "ModelUsage",
        "ChatMessageWithPlaceholdersDict",
        "DatasetStatus",
        "Prompt_Text",
        "Prompt_Chat",
    ):
        assert getattr(model, name) is not None
