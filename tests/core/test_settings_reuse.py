"""Re-creating a client reuses the resolved settings, and never when an argument or variable changed."""

from __future__ import annotations

import os

import pytest

from langfuse_nb import _settings
from langfuse_nb._settings import environment_snapshot, resolve_settings


def test_snapshot_sees_exactly_the_set_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGFUSE_SAMPLE_RATE", "0.5")
    monkeypatch.setenv("GITHUB_SHA", "abc")
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "7")
    monkeypatch.delenv("LANGFUSE_DEBUG", raising=False)
    fast = environment_snapshot()
    slow = {name: os.environ[name] for name in _settings._READ_NAMES if name in os.environ}
    assert fast == slow
    assert {
        "LANGFUSE_SAMPLE_RATE": "0.5",
        "GITHUB_SHA": "abc",
        "OTEL_BSP_MAX_QUEUE_SIZE": "7",
    }.items() <= fast.items()
    assert environment_snapshot({"LANGFUSE_DEBUG": "true", "UNRELATED": "x"}) == {"LANGFUSE_DEBUG": "true"}


def test_same_arguments_and_environment_give_the_same_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LANGFUSE_TRACING_ENVIRONMENT", raising=False)
    first = resolve_settings(public_key="pk-reuse", secret_key="sk", base_url="http://127.0.0.1:9")
    assert resolve_settings(public_key="pk-reuse", secret_key="sk", base_url="http://127.0.0.1:9") is first
    monkeypatch.setenv("LANGFUSE_TRACING_ENVIRONMENT", "staging")  # a changed variable is seen at once
    changed = resolve_settings(public_key="pk-reuse", secret_key="sk", base_url="http://127.0.0.1:9")
    assert changed is not first and changed.environment == "staging" and first.environment is None
    other = resolve_settings(public_key="pk-reuse", secret_key="sk2", base_url="http://127.0.0.1:9")
    assert other.secret_key == "sk2"


def test_equal_but_different_values_and_objects_are_not_confused() -> None:
    assert resolve_settings(public_key="pk", secret_key="sk", timeout=1).timeout == 1
    assert type(resolve_settings(public_key="pk", secret_key="sk", timeout=1.0).timeout) is float  # type: ignore[arg-type]
    headers = {"x-a": "1"}
    first = resolve_settings(public_key="pk", secret_key="sk", additional_headers=headers)
    headers["x-a"] = "2"  # a mutable argument is never a cache key
    assert resolve_settings(
        public_key="pk", secret_key="sk", additional_headers=headers
    ).additional_headers == {"x-a": "2"}
    assert first.additional_headers == {"x-a": "1"}


def test_unknown_argument_still_rejected() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        resolve_settings(nope=1)  # type: ignore[call-arg]
