"""%load_ext that starts the local server answers once the process is launched; no early span is lost."""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path

import pytest

from langfuse_nb.notebook import connect as C
from langfuse_nb.server import runner


def _own_keys() -> dict[str, str]:
    """Keys no other test uses: clients of one public key share their span pipeline (and its endpoint)."""
    suffix = uuid.uuid4().hex[:12]
    return {"public_key": f"pk-lf-fast-{suffix}", "secret_key": f"sk-lf-fast-{suffix}"}


@pytest.fixture(autouse=True)
def _forget_own_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(C, "_OWN_URL", {})


def test_message_comes_before_readiness_and_first_span_arrives(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from langfuse_nb import Langfuse

    caplog.set_level(logging.INFO, logger="langfuse_nb")

    env: dict[str, str] = {}
    started = time.monotonic()
    conn = C.connect(env, port=0, db_path=tmp_path / "lf.db", **_own_keys())
    took = time.monotonic() - started
    server = conn.server
    assert server is not None
    client: Langfuse | None = None
    try:
        # the line is ready while the server process is still importing its web stack
        assert conn.mode == "local" and "started the local server" in conn.message
        assert not runner.is_healthy(server.url, timeout=0.2), f"server already up after {took:.2f}s"
        # the first traced cell, sent while the server cannot answer yet: the exporter retries it
        client = Langfuse(
            public_key=env["LANGFUSE_PUBLIC_KEY"],
            secret_key=env["LANGFUSE_SECRET_KEY"],
            base_url=env["LANGFUSE_BASE_URL"],
        )
        with client.start_as_current_span(name="first cell") as span:
            span.update(output="kept")
            trace_id = span.trace_id
        client.flush(timeout=60)  # the first attempt meets a server that cannot answer yet
        assert server.wait_ready(60) and server.startup_error is None
        trace = client.api.trace.get(trace_id)
        assert [o.name for o in trace.observations] == ["first cell"]
        # a server that is starting is not an outage: the cell shows no "not answering" warning
        noisy = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert not [m for m in noisy if "not answering" in m or "sending spans failed" in m], noisy
    finally:
        if client is not None:  # its span pipeline is shared per public key: leave none behind
            client.shutdown(timeout=10)
        server.stop()


def test_failed_background_start_is_recorded(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    handle = runner.start_detached(port=0, db_path=tmp_path / "lf.db", wait=False, timeout=30)
    try:
        handle.stop(5)  # the server process ends before it ever answered
        assert not handle.wait_ready(30)
        assert handle.startup_error and "exited during startup" in handle.startup_error
        assert any("exited during startup" in r.getMessage() for r in caplog.records)
    finally:
        handle.stop()


def test_waiting_start_is_unchanged(tmp_path: Path) -> None:
    handle = runner.start_detached(port=0, db_path=tmp_path / "lf.db")
    try:
        assert runner.is_healthy(handle.url) and handle.wait_ready(0) and handle.startup_error is None
    finally:
        handle.stop()


def test_a_rest_call_right_after_the_launch_waits_for_the_server(tmp_path: Path) -> None:
    """Run All: `%load_ext` then at once `create_prompt`/`get_prompt` (the prompts notebook's first cells)."""
    from langfuse_nb import Langfuse

    env: dict[str, str] = {}
    conn = C.connect(env, port=0, db_path=tmp_path / "lf.db", **_own_keys())
    server = conn.server
    assert server is not None
    try:
        assert not runner.is_healthy(server.url, timeout=0.2)  # still launching
        client = Langfuse(
            public_key=env["LANGFUSE_PUBLIC_KEY"],
            secret_key=env["LANGFUSE_SECRET_KEY"],
            base_url=env["LANGFUSE_BASE_URL"],
            tracing_enabled=False,
        )
        client.create_prompt(name="first-cell", prompt="Hi {{name}}", labels=["production"])
        assert client.get_prompt("first-cell").compile(name="Ada") == "Hi Ada"
        client.shutdown(timeout=5)  # unregistered: later tests' get_client() must not see it
    finally:
        server.stop()
