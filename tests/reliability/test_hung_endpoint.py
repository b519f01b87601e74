"""A hung endpoint never stalls a cell: bounded flush, remembered failures, prompt fallbacks on time.

"Hung" is real: a listening socket that accepts connections (kernel backlog) and never answers, or the
fault proxy holding requests without an answer.
"""

from __future__ import annotations

import logging
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def hung_url() -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # never accept(): connects succeed, requests are never read or answered
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def _client(url: str, **options: Any) -> Any:
    from langfuse_nb.sdk.client import Langfuse

    key = uuid.uuid4().hex[:12]
    return Langfuse(public_key=f"pk-lf-{key}", secret_key=f"sk-lf-{key}", base_url=url, **options)


def _timed(fn: Any) -> tuple[Any, float]:
    start = time.monotonic()
    value = fn()
    return value, time.monotonic() - start


def test_flush_and_trace_link_cost_one_bounded_flush(hung_url: str) -> None:
    """What a traced cell does at its end: flush(2 s), then build the trace link."""
    client = _client(hung_url)
    try:
        costs = []
        for i in range(3):
            with client.start_as_current_span(name=f"cell-{i}") as span:
                trace_id = span.trace_id
            _, cost = _timed(lambda t=trace_id: (client.flush(timeout=2.0), client.get_trace_url(trace_id=t)))
            costs.append(cost)
        assert max(costs) < 2.5, costs  # was 2 s + a 5 s project lookup, on every cell
        _, link_cost = _timed(lambda: client.get_trace_url(trace_id=trace_id))
        assert link_cost < 0.1  # remembered: no new lookup
    finally:
        client.shutdown(timeout=0.5)


def test_trace_link_lookup_failure_is_remembered(hung_url: str) -> None:
    client = _client(hung_url, tracing_enabled=False, timeout=1)
    assert client.api is not None  # import the REST client outside the timed part
    _, first = _timed(lambda: client.get_trace_url(trace_id="0" * 32))
    _, second = _timed(lambda: client.get_trace_url(trace_id="0" * 32))
    assert first < 1.6 and second < 0.1


def test_get_prompt_fallback_within_its_timeout(hung_url: str) -> None:
    client = _client(hung_url, tracing_enabled=False)
    prompt, cost = _timed(lambda: client.get_prompt("p", fallback="local {{x}}", fetch_timeout_seconds=1))
    assert prompt.is_fallback and cost < 1.5  # was 3 attempts of 5 s plus backoff (16.8 s)
    prompt, again = _timed(lambda: client.get_prompt("p", fallback="local {{x}}"))
    assert prompt.is_fallback and again < 0.1  # the endpoint is remembered as not answering


def test_get_prompt_fallback_default_timeout_is_the_client_timeout(hung_url: str) -> None:
    client = _client(hung_url, tracing_enabled=False, timeout=1.5)
    messages = [{"role": "user", "content": "x"}]
    prompt, cost = _timed(lambda: client.get_prompt("q", type="chat", fallback=messages))  # type: ignore[arg-type]
    assert prompt.is_fallback and cost < 2.0


def test_get_prompt_serves_the_cached_copy_when_the_server_hangs(stack: Any) -> None:
    client = stack.client(tracing_enabled=False)
    client.create_prompt(name="cached", prompt="v1", labels=["production"])
    assert client.get_prompt("cached", cache_ttl_seconds=1).prompt == "v1"
    time.sleep(1.1)  # expired: the next call answers from the cache and refreshes in the background
    stack.proxy.hang(seconds=10)
    prompt, cost = _timed(lambda: client.get_prompt("cached", cache_ttl_seconds=1, fallback="fb"))
    assert prompt.prompt == "v1" and cost < 0.2
    stack.proxy.clear()


def test_traced_cells_in_a_real_shell_against_a_hung_server(
    stack: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    from langfuse_nb.notebook import connect, extension

    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", stack.server.public_key)
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", stack.server.secret_key)
    monkeypatch.setenv("LANGFUSE_BASE_URL", stack.proxy.url)
    monkeypatch.setenv("LANGFUSE_TRACING_ENABLED", "true")
    monkeypatch.setattr(connect, "_OWN_URL", {})
    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "langfuse_nb")
        shell.run_cell("%%langfuse_trace name=warm-up display=none\n0\n")  # imports; no trace link yet
        stack.proxy.hang(seconds=60)  # the server stops answering after the notebook connected
        costs = []
        for i in range(3):
            start = time.monotonic()
            result = shell.run_cell(f"%%langfuse_trace name=hung-{i}\n{i} + 1\n")
            costs.append(time.monotonic() - start)
            assert result.result == i + 1
        assert max(costs) < 2.6, costs  # one bounded flush (2 s), never a 5 s link lookup on top
        # the first hung cell waited out its flush; the endpoint is remembered, so later cells do not wait
        assert max(costs[1:]) < 0.5, costs
        shell.run_line_magic("langfuse_status", "")
        out = capsys.readouterr()
        assert "spans pending" in out.out and "dropped 0 spans" in out.out
        stack.proxy.clear()  # the server answers again: the queued spans of the hung cells arrive
        from langfuse_nb import get_client

        get_client().flush(timeout=30)
        names = {t.name for t in get_client().api.trace.list(limit=50).data}
        assert {"hung-0", "hung-1", "hung-2"} <= names
    finally:
        stack.proxy.clear()
        extension.unload_ipython_extension(shell)
        InteractiveShell.clear_instance()


def test_the_endpoint_problem_is_said_once(hung_url: str, caplog: pytest.LogCaptureFixture) -> None:
    client = _client(hung_url, timeout=1)
    try:
        with caplog.at_level(logging.WARNING, logger="langfuse_nb"):
            for i in range(3):
                with client.start_as_current_span(name=f"said-{i}"):
                    pass
                client.flush(timeout=1.5)
                client.get_trace_url(trace_id="0" * 32)
        said = [r for r in caplog.records if f"{hung_url} is not answering" in r.getMessage()]
        assert len(said) == 1
    finally:
        client.shutdown(timeout=0.5)
