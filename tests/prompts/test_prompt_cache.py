"""get_prompt caching, refresh, retries and fallback against a scripted in-memory API (no sleeps)."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from langfuse_nb.errors import ApiError, NotFoundError
from langfuse_nb.sdk.prompts import mixin as prompts_mixin
from langfuse_nb.sdk.prompts.cache import PromptCache, cache_key, default_ttl_seconds
from langfuse_nb.sdk.prompts.mixin import PromptsMixin, bounded_retries


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakePrompts:
    """``api.prompts`` stand-in: answers from ``versions``, or raises the queued errors first."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.errors: list[BaseException] = []
        self.text = "v1 {{x}}"
        self.version = 1
        self.gate: threading.Event | None = None

    def get(self, name: str, *, version: Any = None, label: Any = None, request_options: Any = None) -> dict:
        self.calls.append({"name": name, "version": version, "label": label, "options": request_options})
        if self.gate is not None:
            self.gate.wait(5)
        if self.errors:
            raise self.errors.pop(0)
        return {
            "type": "text",
            "name": name,
            "version": self.version,
            "prompt": self.text,
            "config": {},
            "labels": ["production"],
            "tags": [],
        }


class Client(PromptsMixin):
    def __init__(self) -> None:
        self.api = SimpleNamespace(prompts=FakePrompts())
        self._settings = SimpleNamespace(base_url="http://fake", public_key="pk")
        self.clock = FakeClock()
        self._prompt_cache = PromptCache(clock=self.clock, default_ttl=60)


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Client:
    monkeypatch.setattr(prompts_mixin, "_sleep", lambda seconds: None)
    return Client()


def test_cache_key_shapes() -> None:
    assert cache_key("a/b c") == "a/b c-label:production"
    assert cache_key("p", version=3) == "p-version:3"
    assert cache_key("p", label="staging") == "p-label:staging"


def test_hit_within_ttl_makes_no_request(client: Client) -> None:
    first = client.get_prompt("p")
    client.clock.now += 59
    assert client.get_prompt("p") is first
    assert len(client.api.prompts.calls) == 1


def test_expired_entry_served_stale_while_one_refresh_runs(client: Client) -> None:
    client.get_prompt("p")
    client.api.prompts.text, client.api.prompts.version = "v2", 2
    client.clock.now += 61
    stale = client.get_prompt("p")
    assert stale.version == 1  # returned at once
    assert client._prompt_cache.wait_for_refreshes(5)
    assert client.get_prompt("p").version == 2
    assert len(client.api.prompts.calls) == 2


def test_refreshes_are_deduplicated(client: Client) -> None:
    client.get_prompt("p")
    client.clock.now += 61
    client.api.prompts.gate = threading.Event()
    for _ in range(5):
        client.get_prompt("p")
    client.api.prompts.gate.set()
    assert client._prompt_cache.wait_for_refreshes(5)
    assert len(client.api.prompts.calls) == 2


def test_failed_refresh_keeps_stale_value_and_404_evicts(client: Client) -> None:
    client.get_prompt("p", max_retries=0)
    client.clock.now += 61
    client.api.prompts.errors = [ApiError(status_code=500, body="boom")]
    assert client.get_prompt("p", max_retries=0).version == 1
    client._prompt_cache.wait_for_refreshes(5)
    assert client._prompt_cache.get("p-label:production") is not None
    client.api.prompts.errors = [NotFoundError({"message": "gone"})]
    client.get_prompt("p", max_retries=0)
    client._prompt_cache.wait_for_refreshes(5)
    assert client._prompt_cache.get("p-label:production") is None


def test_ttl_zero_always_fetches(client: Client) -> None:
    client.get_prompt("p", cache_ttl_seconds=0)
    client.get_prompt("p", cache_ttl_seconds=0)
    assert len(client.api.prompts.calls) == 2


def test_custom_ttl(client: Client) -> None:
    client.get_prompt("p", cache_ttl_seconds=5)
    client.clock.now += 6
    client.get_prompt("p", cache_ttl_seconds=5)
    client._prompt_cache.wait_for_refreshes(5)
    assert len(client.api.prompts.calls) == 2


def test_concurrent_misses_share_one_fetch(client: Client) -> None:
    client.api.prompts.gate = threading.Event()
    results: list[Any] = []
    threads = [threading.Thread(target=lambda: results.append(client.get_prompt("p"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    client.api.prompts.gate.set()
    for thread in threads:
        thread.join(5)
    assert len(results) == 8 and len(client.api.prompts.calls) == 1


def test_404_is_not_retried(client: Client) -> None:
    client.api.prompts.errors = [NotFoundError({"message": "nope"})]
    with pytest.raises(NotFoundError):
        client.get_prompt("missing", max_retries=4)
    assert len(client.api.prompts.calls) == 1


@pytest.mark.parametrize(
    "error",
    [ApiError(status_code=503, body=""), ApiError(status_code=429, body=""), httpx.ConnectError("refused")],
)
def test_retryable_errors_are_retried(client: Client, error: BaseException) -> None:
    client.api.prompts.errors = [error, error]
    assert client.get_prompt("p", max_retries=2).version == 1
    assert len(client.api.prompts.calls) == 3


def test_retries_are_bounded(client: Client) -> None:
    client.api.prompts.errors = [httpx.ConnectError("x")] * 10
    with pytest.raises(httpx.ConnectError):
        client.get_prompt("p", max_retries=99)
    assert len(client.api.prompts.calls) == 5
    assert bounded_retries(None) == 2 and bounded_retries(-3) == 0 and bounded_retries(9) == 4


def test_400_is_final(client: Client) -> None:
    client.api.prompts.errors = [ApiError(status_code=400, body="bad")]
    with pytest.raises(ApiError):
        client.get_prompt("p")
    assert len(client.api.prompts.calls) == 1


def test_fallbacks(client: Client) -> None:
    client.api.prompts.errors = [NotFoundError({})]
    text = client.get_prompt("p", fallback="Hi {{name}}", label="staging")
    assert text.is_fallback and text.compile(name="A") == "Hi A"
    assert (text.version, text.labels, text.config) == (0, ["staging"], {})
    client.api.prompts.errors = [NotFoundError({})]
    chat = client.get_prompt("c", type="chat", version=7, fallback=[{"role": "system", "content": "S {{a}}"}])
    assert chat.is_fallback and chat.version == 7
    assert chat.compile(a=1) == [{"role": "system", "content": "S 1"}]
    assert client._prompt_cache.get("p-label:staging") is None  # fallbacks are never cached


def test_timeout_is_passed_as_request_option(client: Client) -> None:
    client.get_prompt("p", fetch_timeout_seconds=2)
    assert client.api.prompts.calls[0]["options"] == {"max_retries": 0, "timeout_in_seconds": 2}


def test_argument_validation(client: Client) -> None:
    with pytest.raises(ValueError, match="both"):
        client.get_prompt("p", version=1, label="x")
    with pytest.raises(ValueError, match="empty"):
        client.get_prompt("")


def test_invalidate_and_clear(client: Client) -> None:
    client.get_prompt("p", version=1)
    client.get_prompt("p", label="a")
    client.get_prompt("q")
    client._prompt_cache.invalidate("p")
    assert client._prompt_cache.get("p-version:1") is None and client._prompt_cache.get("q-label:production")
    client.clear_prompt_cache()
    assert client._prompt_cache.get("q-label:production") is None


def test_default_ttl_env() -> None:
    assert default_ttl_seconds({}) == 60
    assert default_ttl_seconds({"LANGFUSE_PROMPT_CACHE_DEFAULT_TTL_SECONDS": "5"}) == 5
    assert default_ttl_seconds({"LANGFUSE_PROMPT_CACHE_DEFAULT_TTL_SECONDS": "x"}) == 60
