"""Configuration resolution: argument > env var > default, validated once."""

from __future__ import annotations

import pytest

from langfuse_nb._settings import DEFAULT_BASE_URL, resolve_settings


def test_defaults_with_empty_environment() -> None:
    s = resolve_settings(environ={})
    assert (s.public_key, s.secret_key, s.base_url, s.timeout) == (None, None, DEFAULT_BASE_URL, 5)
    assert (s.flush_at, s.flush_interval, s.sample_rate) == (512, 5.0, 1.0)
    assert s.tracing_enabled and not s.debug
    assert s.environment is None and s.release is None and not s.has_keys
    assert s.traces_endpoint == f"{DEFAULT_BASE_URL}/api/public/otel/v1/traces"
    assert s.explicit == frozenset()


def test_env_vars_are_read() -> None:
    env = {
        "LANGFUSE_PUBLIC_KEY": "pk", "LANGFUSE_SECRET_KEY": "sk", "LANGFUSE_BASE_URL": "http://x",
        "LANGFUSE_TIMEOUT": "9", "LANGFUSE_FLUSH_AT": "7", "LANGFUSE_FLUSH_INTERVAL": "0.5",
        "LANGFUSE_SAMPLE_RATE": "0.25", "LANGFUSE_TRACING_ENVIRONMENT": "staging", "LANGFUSE_RELEASE": "r9",
        "LANGFUSE_DEBUG": "true", "LANGFUSE_MEDIA_UPLOAD_THREAD_COUNT": "3",
        "LANGFUSE_OTEL_TRACES_EXPORT_PATH": "/custom/path", "OTEL_BSP_MAX_QUEUE_SIZE": "5000",
    }
    s = resolve_settings(environ=env)
    assert (s.public_key, s.secret_key, s.base_url, s.timeout) == ("pk", "sk", "http://x", 9)
    assert (s.flush_at, s.flush_interval, s.sample_rate) == (7, 0.5, 0.25)
    assert (s.environment, s.release, s.debug, s.media_upload_thread_count) == ("staging", "r9", True, 3)
    assert s.traces_endpoint == "http://x/custom/path"
    assert s.span_queue_size == 5000
    assert {"flush_at", "flush_interval", "sample_rate", "timeout"} <= s.explicit


def test_arguments_beat_env_vars() -> None:
    env = {"LANGFUSE_PUBLIC_KEY": "env", "LANGFUSE_FLUSH_AT": "7", "LANGFUSE_BASE_URL": "http://env"}
    s = resolve_settings(public_key="arg", flush_at=3, base_url="http://arg", environ=env)
    assert (s.public_key, s.flush_at, s.base_url) == ("arg", 3, "http://arg")


def test_base_url_order_base_url_env_then_host() -> None:
    assert resolve_settings(host="http://h", environ={"LANGFUSE_BASE_URL": "http://b"}).base_url == "http://b"
    assert resolve_settings(host="http://h", environ={"LANGFUSE_HOST": "http://e"}).base_url == "http://h"
    assert resolve_settings(environ={"LANGFUSE_HOST": "http://e"}).base_url == "http://e"


def test_release_falls_back_to_ci_variables() -> None:
    assert resolve_settings(environ={"GITHUB_SHA": "abc"}).release == "abc"
    assert resolve_settings(release="mine", environ={"GITHUB_SHA": "abc"}).release == "mine"


def test_tracing_switch_env_can_disable_and_argument_can_disable() -> None:
    assert not resolve_settings(environ={"LANGFUSE_TRACING_ENABLED": "false"}).tracing_enabled
    assert not resolve_settings(tracing_enabled=False, environ={}).tracing_enabled
    assert resolve_settings(environ={"LANGFUSE_TRACING_ENABLED": "true"}).tracing_enabled


def test_sample_rate_zero_is_kept_f1() -> None:
    assert resolve_settings(sample_rate=0.0, environ={"LANGFUSE_SAMPLE_RATE": "0.7"}).sample_rate == 0.0


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_sample_rate_outside_unit_interval_raises(bad: float) -> None:
    with pytest.raises(ValueError, match="sample_rate must be between 0.0 and 1.0"):
        resolve_settings(sample_rate=bad, environ={})
    with pytest.raises(ValueError):
        resolve_settings(environ={"LANGFUSE_SAMPLE_RATE": str(bad)})


def test_nothing_reads_env_at_import_time() -> None:
    import subprocess
    import sys

    code = ("import os, langfuse_nb.sdk.client, langfuse_nb.sdk.observe; "
            "os.environ['LANGFUSE_PUBLIC_KEY']='late'; "
            "from langfuse_nb._settings import resolve_settings; print(resolve_settings().public_key)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "late", out.stderr


def test_malformed_env_values_name_the_variable() -> None:
    with pytest.raises(ValueError, match="LANGFUSE_FLUSH_AT='abc'"):
        resolve_settings(environ={"LANGFUSE_FLUSH_AT": "abc"})
    with pytest.raises(ValueError, match="LANGFUSE_SAMPLE_RATE"):
        resolve_settings(environ={"LANGFUSE_SAMPLE_RATE": "half"})
    # OpenTelemetry's own variable: unusable means its default, as in OpenTelemetry
    assert resolve_settings(environ={"OTEL_BSP_MAX_QUEUE_SIZE": "lots"}).span_queue_size == 100_000


@pytest.mark.parametrize("raw", ["", " ", "nope", "False"])
def test_debug_env_needs_an_explicit_true(raw: str) -> None:
    assert resolve_settings(environ={"LANGFUSE_DEBUG": raw}).debug is False


def test_empty_switches_keep_their_defaults() -> None:
    s = resolve_settings(environ={"LANGFUSE_TRACING_ENABLED": "", "LANGFUSE_DEBUG": "true"})
    assert s.tracing_enabled and s.debug


def test_trailing_slash_of_base_url_is_dropped() -> None:
    s = resolve_settings(environ={"LANGFUSE_BASE_URL": "http://localhost:3939/"})
    assert s.base_url == "http://localhost:3939"
    assert s.traces_endpoint == "http://localhost:3939/api/public/otel/v1/traces"
