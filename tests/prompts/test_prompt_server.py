"""Prompt management against the embedded server over real HTTP."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest

from langfuse_nb.errors import NotFoundError
from langfuse_nb.model import ChatPromptClient, TextPromptClient
from langfuse_nb.sdk.prompts import mixin as prompts_mixin
from langfuse_nb.sdk.prompts.cache import PromptCache

NAME = "folder/sub folder/my prompt"  # '/' and spaces must survive the path encoding


def test_text_prompt_round_trip(lf: Any) -> None:
    created = lf.create_prompt(
        name=NAME,
        prompt="Hi {{name}}",
        labels=["production"],
        tags=["t1"],
        config={"model": "m"},
        commit_message="first",
    )
    assert isinstance(created, TextPromptClient) and created.version == 1
    fetched = lf.get_prompt(NAME)
    assert (fetched.name, fetched.version, fetched.config, fetched.commit_message) == (
        NAME,
        1,
        {"model": "m"},
        "first",
    )
    assert "production" in fetched.labels and fetched.tags == ["t1"]
    assert fetched.compile(name="Ada") == "Hi Ada" and fetched.variables == ["name"]


def test_chat_prompt_with_placeholders(lf: Any) -> None:
    messages = [{"role": "system", "content": "Be {{tone}}"}, {"type": "placeholder", "name": "history"}]
    created = lf.create_prompt(name="chat one", type="chat", prompt=messages, labels=["production"])
    assert isinstance(created, ChatPromptClient)
    chat = lf.get_prompt("chat one", type="chat")
    assert chat.compile(tone="brief", history=[{"role": "user", "content": "q"}]) == [
        {"role": "system", "content": "Be brief"},
        {"role": "user", "content": "q"},
    ]


def test_versions_labels_and_invalidation(lf: Any) -> None:
    lf.create_prompt(name="p", prompt="v1", labels=["production"])
    assert lf.get_prompt("p").prompt == "v1"
    lf.create_prompt(name="p", prompt="v2", labels=["staging"])
    assert lf.get_prompt("p", label="staging").version == 2
    assert lf.get_prompt("p", version=1).prompt == "v1"
    lf.update_prompt(name="p", version=2, new_labels=["production"])
    assert lf.get_prompt("p").version == 2  # update_prompt invalidated the cached production entry
    lf.create_prompt(name="p", prompt="v3", labels=["production"])
    assert lf.get_prompt("p").prompt == "v3"  # so did create_prompt


def test_cache_expiry_with_injected_clock(lf: Any) -> None:
    now = [0.0]
    lf._prompt_cache = PromptCache(clock=lambda: now[0], default_ttl=60)
    lf.create_prompt(name="ttl", prompt="one", labels=["production"])
    assert lf.get_prompt("ttl").prompt == "one"
    lf.api.prompts.create(
        request={
            "name": "ttl",
            "type": "text",
            "prompt": "two",
            "labels": ["production"],
            "tags": None,
            "config": {},
            "commitMessage": None,
        }
    )  # behind the cache
    now[0] = 30
    assert lf.get_prompt("ttl").prompt == "one"
    now[0] = 61
    assert lf.get_prompt("ttl").prompt == "one"  # stale value served at once, refresh in background
    assert lf._prompt_cache.wait_for_refreshes(5)
    assert lf.get_prompt("ttl").prompt == "two"


def test_unknown_prompt_404_not_retried(lf: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(prompts_mixin, "_sleep", sleeps.append)
    start = time.monotonic()
    with pytest.raises(NotFoundError):
        lf.get_prompt("does-not-exist", max_retries=4)
    assert sleeps == [] and time.monotonic() - start < 2
    fallback = lf.get_prompt("does-not-exist", fallback="local {{x}}")
    assert fallback.is_fallback and fallback.compile(x=1) == "local 1"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_server_gives_fallback_or_error_quickly(monkeypatch: pytest.MonkeyPatch) -> None:
    from langfuse_nb.sdk.client import Langfuse

    sleeps: list[float] = []
    monkeypatch.setattr(prompts_mixin, "_sleep", sleeps.append)
    client = Langfuse(
        public_key="pk-x",
        secret_key="sk-x",
        base_url=f"http://127.0.0.1:{_closed_port()}",
        tracing_enabled=False,
    )
    start = time.monotonic()
    chat = client.get_prompt(
        "p", type="chat", fallback=[{"role": "user", "content": "hi"}], fetch_timeout_seconds=1
    )
    assert chat.is_fallback and chat.prompt == [{"type": "message", "role": "user", "content": "hi"}]
    with pytest.raises(Exception):  # noqa: B017 - the transport error surfaces unchanged
        client.get_prompt("p", max_retries=1, fetch_timeout_seconds=1)
    assert len(sleeps) == 3  # 2 retries for the default, 1 for max_retries=1: network errors are retried
    assert time.monotonic() - start < 5


def test_pagination_of_many_versions_does_not_confuse_labels(lf: Any) -> None:
    for i in range(1, 6):
        lf.create_prompt(name="many", prompt=f"v{i}", labels=["production"] if i == 3 else [])
    assert lf.get_prompt("many").prompt == "v3"
    assert lf.get_prompt("many", label="latest").prompt == "v5"


def test_concurrent_get_prompt_makes_one_request(lf: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    lf.create_prompt(name="hot", prompt="x", labels=["production"])
    lf.clear_prompt_cache()
    real_get, calls = lf.api.prompts.get, []

    def counting_get(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        time.sleep(0.05)  # hold the request open so the other threads pile up behind it
        return real_get(*args, **kwargs)

    monkeypatch.setattr(lf.api.prompts, "get", counting_get)
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(lf.get_prompt("hot"))) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(results) == 10 and len(calls) == 1
    assert all(result is results[0] for result in results)


def test_generation_links_prompt_but_not_fallback(lf: Any) -> None:
    prompt = lf.create_prompt(name="linked/p", prompt="x", labels=["production"])
    fallback = lf.get_prompt("not-there", fallback="y", max_retries=0)
    with lf.start_as_current_observation(name="g1", as_type="generation", prompt=prompt) as gen:
        linked_id = gen.id
    with lf.start_as_current_observation(name="g2", as_type="generation", prompt=fallback) as gen:
        unlinked_id = gen.id
    lf.flush(timeout=10)
    linked = lf.api.observations.get(linked_id)
    assert (linked.prompt_name, linked.prompt_version) == ("linked/p", 1)
    assert lf.api.observations.get(unlinked_id).prompt_name is None
