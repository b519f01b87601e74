"""The prompt browser and trace list through trait changes and click(), against a real server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from langfuse_nb.notebook.widgets.prompts import PromptBrowser, PromptList
from langfuse_nb.widgets import TraceList


@pytest.fixture
def client(server_env) -> Iterator:
    from langfuse_nb import Langfuse

    yield Langfuse()


@pytest.fixture
def name(client) -> str:
    """A text prompt with two versions; v1 is production."""
    prompt_name = f"w-{uuid.uuid4().hex[:8]}"
    client.create_prompt(
        name=prompt_name,
        prompt="Hello {{name}}!",
        labels=["production"],
        config={"temperature": 0.1},
        tags=["demo"],
    )
    client.create_prompt(name=prompt_name, prompt="Hi {{name}}, from {{place}}.", labels=["staging"])
    return prompt_name


def test_opens_production_then_browses_versions(client, name: str) -> None:
    browser = PromptBrowser(client, name=name)
    assert browser.version.value == 1 and browser.text.value == "Hello {{name}}!"
    assert [label for label, _v in browser.version.options] == ["v2  [staging, latest]", "v1  [production]"]
    assert '"temperature": 0.1' in browser.config.value and browser.tags.value == "demo"
    browser.version.value = 2
    assert browser.text.value == "Hi {{name}}, from {{place}}."
    assert [box.description for box in browser.variables.children] == ["name", "place"]
    assert PromptBrowser(client, name=name, label="staging").version.value == 2
    assert PromptBrowser(client, name=name, version=2).text.value.startswith("Hi")


def test_variables_drive_the_live_preview(client, name: str) -> None:
    browser = PromptBrowser(client, name=name, version=2)
    name_box, place_box = browser.variables.children
    name_box.value = "Ada"
    assert "Hi Ada, from {{place}}." in browser.preview.value
    place_box.value = "<Paris>"
    assert "Hi Ada, from &lt;Paris&gt;." in browser.preview.value
    browser.text.value = "Bye {{name}} {{mood}}"  # editing re-detects variables and keeps typed values
    assert [b.description for b in browser.variables.children] == ["name", "mood"]
    assert browser.variables.children[0].value == "Ada" and "Bye Ada {{mood}}" in browser.preview.value


def test_save_as_new_version(client, name: str) -> None:
    browser = PromptBrowser(client, name=name)
    browser.text.value = "Greetings {{name}}"
    browser.labels.value = "review"
    browser.commit.value = "more formal"
    browser.save.click()
    assert browser.message == f"Saved version 3 of {name!r}." and browser.version.value == 3
    stored = client.api.prompts.get(name, version=3)
    assert stored.prompt == "Greetings {{name}}" and "review" in stored.labels
    assert stored.commit_message == "more formal"


def test_promote_needs_confirmation(client, name: str) -> None:
    browser = PromptBrowser(client, name=name, version=2)
    browser.promote.click()
    assert "Move label &#x27;production&#x27; to version 2?" in browser.confirm_box.children[0].value
    browser.cancel.click()
    assert browser.confirm_box.children == ()
    assert client.api.prompts.get(name, label="production").version == 1
    browser.promote.click()
    browser.confirm.click()
    assert client.api.prompts.get(name, label="production").version == 2
    assert browser.message == "Label 'production' now points to version 2."


def test_errors_are_messages_not_tracebacks(client, name: str) -> None:
    browser = PromptBrowser(client, name=name)
    browser.config.value = "{not json"
    browser.save.click()
    assert browser.message.startswith("config is not valid JSON")  # no class names ("DraftError:")
    assert "color:#cf222e" in browser.status.value


def test_diff_two_versions(client, name: str) -> None:
    browser = PromptBrowser(client, name=name)
    assert (browser.diff_a.value, browser.diff_b.value) == (1, 2)
    assert "lfnb-chg" in browser.diff.value and "Hello {{name}}!" in browser.diff.value
    browser.diff_b.value = 1
    assert "identical" in browser.diff.value


def test_chat_prompt_rows(client) -> None:
    chat_name = f"c-{uuid.uuid4().hex[:8]}"
    client.create_prompt(
        name=chat_name,
        type="chat",
        labels=["production"],
        prompt=[{"role": "system", "content": "Be {{tone}}."}, {"role": "user", "content": "{{question}}"}],
    )
    browser = PromptBrowser(client, name=chat_name)
    rows = browser.chat
    assert [b.description for b in browser.variables.children] == ["tone", "question"]
    rows.add_placeholder.click()
    rows.children[2].children[1].value = "history"  # the placeholder's name
    rows.children[2].children[2].click()  # move it up
    assert [m.role for m in rows.messages] == ["system", "placeholder", "user"]
    rows.children[0].children[4].click()  # remove the system message
    assert [m.role for m in rows.messages] == ["placeholder", "user"]
    rows.add_message.click()
    rows.children[2].children[0].value = "assistant"
    rows.children[2].children[1].value = "Sure."
    assert "[placeholder: history]" in browser.preview.value
    browser.save.click()
    saved = client.api.prompts.get(chat_name, version=2).prompt
    as_dicts = [m.model_dump(exclude_none=True) if hasattr(m, "model_dump") else m for m in saved]
    assert [d.get("type", "message") for d in as_dicts][:1] == ["placeholder"]
    assert as_dicts[-1]["role"] == "assistant" and as_dicts[-1]["content"] == "Sure."


def test_prompt_list_opens_a_browser(client, name: str) -> None:
    listing = PromptList(client)
    assert (name, name) in listing.pick.options and name in listing.table.value
    listing.pick.value = name
    listing.open_button.click()
    (browser,) = listing.browser_box.children
    assert isinstance(browser, PromptBrowser) and browser.name == name


def test_trace_list_filters(client) -> None:
    tag = uuid.uuid4().hex[:8]
    with client.start_as_current_observation(name=f"listed-{tag}") as span:
        span.update_trace(user_id=f"user-{tag}")
    client.flush()
    widget = TraceList(client, user_id=f"user-{tag}")
    assert len(widget.pick.options) == 1 and f"listed-{tag}" in widget.table.value
    widget.filters["user_id"].value = "nobody-" + tag
    widget.refresh_button.click()
    assert widget.pick.options == () and "No traces found" in widget.table.value
    widget.show("0" * 32)
    assert f"no trace with id {'0' * 32} on this server" in widget.view.value


def test_prompt_list_shows_type_and_update_time_of_real_api_rows(client, name: str) -> None:
    """The list renders what the API returns (enum type, last_updated_at), not only hand-made dicts."""
    import re

    html = PromptList(client).table.value
    row = next(r for r in html.split("<tr") if f">{name}<" in r)
    assert "PromptType" not in row and ">text<" in row
    assert re.search(r">20\d\d-\d\d-\d\d \d\d:\d\d:\d\d<", row), row
