"""The prompt form never loses or invents work (issue 10 item 3): trait changes and click() on the
real widgets against a real server."""

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


def _versions(client, name: str) -> list[int]:
    found = [p for p in client.api.prompts.list(name=name).data if p.name == name]
    return sorted(found[0].versions) if found else []


@pytest.fixture
def name(client) -> str:
    prompt_name = f"pw-{uuid.uuid4().hex[:8]}"
    client.create_prompt(name=prompt_name, prompt="Hello {{name}}!", labels=["production"])
    client.create_prompt(name=prompt_name, prompt="Hi {{name}}.", labels=["staging"])
    return prompt_name


def test_unknown_prompt_opens_a_new_prompt_form_that_never_saves_empty(client) -> None:
    new = f"pw-new-{uuid.uuid4().hex[:6]}"
    browser = PromptBrowser(client, name=new)
    assert browser.is_new and f"no prompt named {new!r} yet" in browser.message
    assert browser.save.description == "Create prompt" and browser.new_name.value == new
    browser.save.click()  # nothing written yet
    assert browser.message.startswith("the prompt text is empty") and _versions(client, new) == []
    browser.kind.value = "chat"
    browser.save.click()
    assert "at least one message" in browser.message and _versions(client, new) == []
    browser.kind.value = "text"
    browser.text.value = "Summarize {{doc}}"
    browser.save.click()
    assert browser.message == f"Saved version 1 of {new!r}." and not browser.is_new
    assert client.api.prompts.get(new, version=1).prompt == "Summarize {{doc}}"
    assert browser.version.value == 1 and browser.save.description == "Save as new version"


def test_missing_version_says_so_and_shows_the_latest(client, name: str) -> None:
    browser = PromptBrowser(client, name=name, version=99)
    assert browser.message == f"{name!r} has no version 99 (it has 1, 2); showing the latest, version 2."
    assert browser.version.value == 2 and browser.text.value == "Hi {{name}}."
    browser.save.click()  # saving from here copies real text, never an empty version
    assert client.api.prompts.get(name, version=3).prompt == "Hi {{name}}."
    labelled = PromptBrowser(client, name=name, label="nope")
    assert "has the label 'nope'" in labelled.message and labelled.text.value


def test_stale_form_shows_the_newer_version_and_asks(client, name: str) -> None:
    stale = PromptBrowser(client, name=name, version=2)
    client.create_prompt(name=name, prompt="Edited elsewhere {{name}}")  # v3, after the form loaded
    stale.text.value = "My edit {{name}}"
    stale.save.click()
    assert _versions(client, name) == [1, 2, 3]  # nothing saved yet
    assert stale.message == "Not saved yet: version 3 is newer than the one you edited."
    question, diff, _buttons = stale.conflict_box.children
    assert "saved elsewhere after this form opened version 2" in question.value
    assert "Edited elsewhere" in diff.value and "My edit" in diff.value
    stale.save_anyway.click()
    assert _versions(client, name) == [1, 2, 3, 4]
    assert client.api.prompts.get(name, version=4).prompt == "My edit {{name}}"
    assert stale.conflict_box.children == () and stale.version.value == 4


def test_conflict_can_take_the_newer_version_instead(client, name: str) -> None:
    stale = PromptBrowser(client, name=name)
    client.create_prompt(name=name, prompt="Theirs")
    stale.text.value = "Mine"
    stale.save.click()
    stale.take_theirs.click()
    assert stale.text.value == "Theirs" and stale.version.value == 3 and _versions(client, name) == [1, 2, 3]
    assert stale.message == "Opened version 3; your edits were discarded."


def test_refresh_shows_newer_versions_and_keeps_edits(client, name: str) -> None:
    browser = PromptBrowser(client, name=name, version=2)
    browser.text.value = "unsaved edit"
    client.create_prompt(name=name, prompt="v3 text", labels=["production"])
    browser.refresh_button.click()
    assert [v for _label, v in browser.version.options] == [3, 2, 1]
    assert "Version 3 is newer than the one you are editing" in browser.message
    assert browser.text.value == "unsaved edit"  # refreshing never throws work away
    assert "production" in browser.version.options[0][0]


def test_compare_and_dropdowns_start_with_a_selection(client, name: str) -> None:
    browser = PromptBrowser(client, name=name)
    assert (browser.diff_a.value, browser.diff_b.value) == (1, 2) and "Hello" in browser.diff.value
    single = f"pw-one-{uuid.uuid4().hex[:6]}"
    client.create_prompt(name=single, prompt="only")
    one = PromptBrowser(client, name=single)
    assert (one.diff_a.value, one.diff_b.value) == (1, 1) and "identical" in one.diff.value
    listing = PromptList(client)
    assert listing.pick.value is not None
    with client.start_as_current_observation(name="for-the-list"):
        pass
    client.flush()
    traces = TraceList(client)
    assert traces.pick.options and traces.pick.value == traces.pick.options[0][1]


def test_prompt_list_shows_labels_per_version(client, name: str) -> None:
    listing = PromptList(client)
    row = next(r for r in listing.table.value.split("<tr") if f">{name}<" in r)
    v2, v1 = row.index(">v2<"), row.index(">v1<")
    assert v2 < row.index(">staging<") < row.index(">latest<") < v1 < row.index(">production<")


def test_prompt_list_open_with_nothing_to_open_says_so(client, monkeypatch) -> None:
    from langfuse_nb.notebook import commands

    monkeypatch.setattr(commands, "list_prompts", lambda *_a, **_k: [])
    listing = PromptList(client)
    listing.open_button.click()
    assert "no prompts to open yet" in listing.message


def test_static_copy_follows_the_form(client, name: str) -> None:
    browser = PromptBrowser(client, name=name)
    bundle = browser._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    html = bundle["text/html"]
    assert "Hello {{name}}!" in html and ">v2<" in html and ">production<" in html
    browser.version.value = 2
    assert "Hi {{name}}." in browser._repr_mimebundle_()["text/html"]
