"""Configuration resolution: argument > env var > default, validated once."""

from __future__ import annotations

import ast
import logging
from pathlib import Path
from typing import Any

import pytest

from langfuse_nb._settings import (
    DEFAULT_BASE_URL,
    ENV_VARS,
    FALSE_WORDS,
    TRUE_WORDS,
    env_setting,
    parse_env_value,
    resolve_settings,
)
from langfuse_nb.sdk.observe import observe
from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A


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
        "LANGFUSE_PUBLIC_KEY": "pk",
        "LANGFUSE_SECRET_KEY": "sk",
        "LANGFUSE_BASE_URL": "http://x",
        "LANGFUSE_TIMEOUT": "9",
        "LANGFUSE_FLUSH_AT": "7",
        "LANGFUSE_FLUSH_INTERVAL": "0.5",
        "LANGFUSE_SAMPLE_RATE": "0.25",
        "LANGFUSE_TRACING_ENVIRONMENT": "staging",
        "LANGFUSE_RELEASE": "r9",
        "LANGFUSE_DEBUG": "true",
        "LANGFUSE_MEDIA_UPLOAD_THREAD_COUNT": "3",
        "LANGFUSE_OTEL_TRACES_EXPORT_PATH": "/custom/path",
        "OTEL_BSP_MAX_QUEUE_SIZE": "5000",
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

    code = (
        "import os, langfuse_nb.sdk.client, langfuse_nb.sdk.observe; "
        "os.environ['LANGFUSE_PUBLIC_KEY']='late'; "
        "from langfuse_nb._settings import resolve_settings; print(resolve_settings().public_key)"
    )
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


# -- one table of variables, one parsing rule ---------------------------------------------------------

# variable -> (text in the environment, Settings field, resolved value); every SDK variable has a row
EFFECTS: dict[str, tuple[str, str, Any]] = {
    "LANGFUSE_PUBLIC_KEY": ("pk-1", "public_key", "pk-1"),
    "LANGFUSE_SECRET_KEY": ("sk-1", "secret_key", "sk-1"),
    "LANGFUSE_BASE_URL": ("http://b:1/", "base_url", "http://b:1"),
    "LANGFUSE_HOST": ("http://h:1", "base_url", "http://h:1"),
    "LANGFUSE_TIMEOUT": ("2.5", "timeout", 2.5),
    "LANGFUSE_FLUSH_AT": ("7", "flush_at", 7),
    "LANGFUSE_FLUSH_INTERVAL": ("0.25", "flush_interval", 0.25),
    "LANGFUSE_SAMPLE_RATE": ("0.5", "sample_rate", 0.5),
    "LANGFUSE_TRACING_ENVIRONMENT": ("staging", "environment", "staging"),
    "LANGFUSE_RELEASE": ("r1", "release", "r1"),
    "LANGFUSE_DEBUG": ("on", "debug", True),
    "LANGFUSE_TRACING_ENABLED": ("off", "tracing_enabled", False),
    "LANGFUSE_MEDIA_UPLOAD_THREAD_COUNT": ("3", "media_upload_thread_count", 3),
    "LANGFUSE_MEDIA_UPLOAD_ENABLED": ("no", "media_upload_enabled", False),
    "LANGFUSE_OBSERVE_DECORATOR_IO_CAPTURE_ENABLED": ("off", "observe_io_capture", False),
    "LANGFUSE_OTEL_TRACES_EXPORT_PATH": ("/x/traces", "otel_traces_export_path", "/x/traces"),
    "LANGFUSE_PROMPT_CACHE_DEFAULT_TTL_SECONDS": ("5", "prompt_cache_ttl_seconds", 5.0),
    "LANGFUSE_NB_RETRY_BUDGET_SECONDS": ("7", "retry_budget", 7.0),
}
NOT_CLIENT_SETTINGS = {"LANGFUSE_NB_PROGRESS"}  # read where it is used, through env_setting()


def test_every_variable_has_a_row_in_the_effects_table() -> None:
    assert {var.name for var in ENV_VARS} == set(EFFECTS) | NOT_CLIENT_SETTINGS


@pytest.mark.parametrize("name", sorted(EFFECTS))
def test_each_variable_sets_its_setting(name: str) -> None:
    raw, field, expected = EFFECTS[name]
    assert getattr(resolve_settings(environ={name: raw}), field) == expected
    default = next(var.default for var in ENV_VARS if var.name == name)
    if field != "base_url":  # the URL's default comes from LANGFUSE_BASE_URL's row
        assert getattr(resolve_settings(environ={}), field) == default


@pytest.mark.parametrize("var", [v for v in ENV_VARS if v.kind == "bool"], ids=lambda v: v.name)
def test_booleans_share_one_rule(var: Any, caplog: pytest.LogCaptureFixture) -> None:
    for word in TRUE_WORDS:
        assert parse_env_value(var, word.upper()) is True
        assert parse_env_value(var, f" {word} ") is True
    for word in FALSE_WORDS:
        assert parse_env_value(var, word.capitalize()) is False
    assert parse_env_value(var, "") is var.default and parse_env_value(var, None) is var.default
    with caplog.at_level(logging.WARNING, logger="langfuse_nb"):
        assert parse_env_value(var, "maybe") is var.default
    assert var.name in caplog.text


@pytest.mark.parametrize("var", [v for v in ENV_VARS if v.kind in ("int", "float")], ids=lambda v: v.name)
def test_numbers_share_one_rule(var: Any) -> None:
    assert parse_env_value(var, " 3 ") == 3
    with pytest.raises(ValueError, match=var.name):
        parse_env_value(var, "three")


def test_progress_switch_is_read_through_the_table() -> None:
    assert env_setting("LANGFUSE_NB_PROGRESS", {"LANGFUSE_NB_PROGRESS": "off"}) is False
    assert env_setting("LANGFUSE_NB_PROGRESS", {}) is None


@pytest.mark.parametrize("raw", ["off", "OFF", "no", "0", "False"])
def test_observe_honours_every_false_word_of_io_capture(
    lf: Any, monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    """Settings said "disabled" for ``off`` while @observe still captured (issue 9, item 6)."""
    monkeypatch.setenv("LANGFUSE_OBSERVE_DECORATOR_IO_CAPTURE_ENABLED", raw)
    client = lf.client()
    assert client._settings.observe_io_capture is False

    @observe
    def quiet(x: int) -> int:
        return x

    quiet(1)
    attributes = lf.span(client, "quiet")["attributes"]
    assert A.OBSERVATION_INPUT not in attributes and A.OBSERVATION_OUTPUT not in attributes


# -- nobody else reads LANGFUSE_* ------------------------------------------------------------------
PACKAGE = Path(__file__).resolve().parents[2] / "langfuse_nb"
# Files that still read a variable themselves; each owner moves the read to env_setting()/Settings.
# The test fails when this list is out of date in either direction.
PENDING: dict[str, str] = {}
SERVER_SIDE = ("server/", "cli.py", "__main__.py")  # the server's own LANGFUSE_NB_* (server config)


def _env_reads(tree: ast.AST) -> set[str]:
    """Names of LANGFUSE_* variables read through ``environ.get``/``getenv``/``environ[...]``."""
    constants = {
        t.id: node.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for t in node.targets
        if isinstance(t, ast.Name)
    }

    def name_of(arg: ast.expr) -> str | None:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value
        return constants.get(arg.id) if isinstance(arg, ast.Name) else None

    found = set()
    for node in ast.walk(tree):
        target = None
        if isinstance(node, ast.Call) and node.args:
            func = ast.unparse(node.func)
            if func.endswith("getenv") or (func.endswith(".get") and "env" in func):
                target = name_of(node.args[0])
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and "env" in ast.unparse(node.value)
        ):
            target = name_of(node.slice)
        if target and target.startswith("LANGFUSE_"):
            found.add(target)
    return found


def test_langfuse_variables_are_read_only_in_settings() -> None:
    sdk_vars = {var.name for var in ENV_VARS}
    offenders = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "_settings.py":
            continue
        reads = _env_reads(ast.parse(path.read_text()))
        if rel.startswith(SERVER_SIDE):
            reads &= sdk_vars  # the server may read its own LANGFUSE_NB_*, never the SDK's variables
        if reads:
            offenders[rel] = sorted(reads)
    assert set(offenders) == set(PENDING), offenders


def test_every_variable_is_documented() -> None:
    page = (PACKAGE.parent / "docs" / "configuration.md").read_text()
    missing = [var.name for var in ENV_VARS if f"`{var.name}`" not in page]
    assert not missing, f"add to docs/configuration.md: {missing}"
