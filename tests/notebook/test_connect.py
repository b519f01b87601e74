"""Where %load_ext sends traces: configured endpoint, local server, and bounded failure."""

from __future__ import annotations

import socket
import time

import pytest

from langfuse_nb.notebook import connect as C
from langfuse_nb.server import runner


def _dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(autouse=True)
def _forget_own_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(C, "_OWN_URL", {})


def test_configured_and_reachable(server) -> None:
    env = {
        "LANGFUSE_PUBLIC_KEY": server.public_key,
        "LANGFUSE_SECRET_KEY": server.secret_key,
        "LANGFUSE_BASE_URL": server.url,
    }
    conn = C.connect(env)
    assert conn.mode == "configured" and conn.tracing
    assert conn.message == (
        f"langfuse_nb: traces go to {server.url} (from LANGFUSE_* env vars); view them "
        "with %langfuse_traces or %langfuse_trace_view"
    )


def test_configured_but_unreachable_is_quick_and_disables_tracing() -> None:
    env = {"LANGFUSE_PUBLIC_KEY": "pk", "LANGFUSE_SECRET_KEY": "sk", "LANGFUSE_BASE_URL": _dead_url()}
    start = time.monotonic()
    conn = C.connect(env)
    assert time.monotonic() - start < 4
    assert conn.mode == "unavailable" and not conn.tracing
    assert "cannot reach" in conn.message and "\n" not in conn.message
    assert env["LANGFUSE_TRACING_ENABLED"] == "false"


def test_local_server_started_sets_env(monkeypatch: pytest.MonkeyPatch, server) -> None:
    monkeypatch.setattr(runner, "ensure_server", lambda **kw: server)
    env: dict[str, str] = {}
    conn = C.connect(env)
    assert conn.mode == "local" and conn.server is server
    assert env == {
        "LANGFUSE_PUBLIC_KEY": server.public_key,
        "LANGFUSE_SECRET_KEY": server.secret_key,
        "LANGFUSE_BASE_URL": server.url,
    }
    assert "local server at " + server.url in conn.message
    # a reload sees our own env vars and still treats them as the local server
    assert C.connect(env).mode == "local"


def test_tracing_turned_off_by_us_is_turned_on_again(monkeypatch: pytest.MonkeyPatch, server) -> None:
    env = {"LANGFUSE_PUBLIC_KEY": "pk", "LANGFUSE_SECRET_KEY": "sk", "LANGFUSE_BASE_URL": _dead_url()}
    assert C.connect(env).mode == "unavailable"
    env["LANGFUSE_BASE_URL"] = server.url
    assert C.connect(env).mode == "configured" and "LANGFUSE_TRACING_ENABLED" not in env
    user_env = {"LANGFUSE_TRACING_ENABLED": "false"}  # set by the user: respected
    monkeypatch.setattr(runner, "ensure_server", lambda **kw: server)
    C.connect(user_env)
    assert user_env["LANGFUSE_TRACING_ENABLED"] == "false"


def test_local_server_that_hangs_gives_up_in_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "ensure_server", lambda **kw: time.sleep(30))
    env: dict[str, str] = {}
    start = time.monotonic()
    conn = C.connect(env, timeout=0.5)
    assert time.monotonic() - start < 3
    assert conn.mode == "unavailable" and "could not start" in conn.message
    assert env == {"LANGFUSE_TRACING_ENABLED": "false"}


def test_local_server_error_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(**kw: object) -> None:
        raise runner.ServerStartError("cannot bind 127.0.0.1:3939: Address in use\nlog tail...")

    monkeypatch.setattr(runner, "ensure_server", fail)
    conn = C.connect({})
    assert conn.message.startswith("langfuse_nb: the local server could not start (cannot bind")
    assert "\n" not in conn.message
