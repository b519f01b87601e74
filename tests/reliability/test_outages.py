"""Spans and scores survive outages within the retry budget; past it, every loss is counted.

The real SDK sends through a real loopback proxy (tests/reliability/fault_proxy.py) to the real embedded
server; the proxy answers 500/503/429 or hangs for a window, then forwards again.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

import pytest

OUTAGE = 3.0  # seconds; short for the suite, the soak benchmark uses 8 s outages


def _traffic(client: Any, prefix: str, *, spans: int, scores: int, seconds: float) -> None:
    """``spans`` spans (with a score on every spans/scores-th) spread evenly over ``seconds``."""
    every = max(1, spans // scores)
    step = seconds / spans
    start = time.monotonic()
    for i in range(spans):
        with client.start_as_current_span(name=f"{prefix}-{i}") as span:
            if i % every == 0:
                span.score_trace(name=f"{prefix}-score-{i}", value=i)
        lag = start + i * step - time.monotonic()
        if lag > 0:
            time.sleep(lag)


def _wait_until(check: Any, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return check()


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"status": 500}, id="500"),
        pytest.param({"status": 503}, id="503"),
        pytest.param({"status": 429, "retry_after": 1}, id="429-retry-after"),
        pytest.param({"hang": True}, id="hang"),
    ],
)
def test_outage_within_budget_loses_nothing(stack: Any, fault: dict[str, Any]) -> None:
    client = stack.client()
    prefix = f"out-{uuid.uuid4().hex[:8]}"
    if fault.get("hang"):
        stack.proxy.hang(seconds=OUTAGE)
    else:
        stack.proxy.fail(fault["status"], seconds=OUTAGE, retry_after=fault.get("retry_after"))
    _traffic(client, prefix, spans=600, scores=60, seconds=OUTAGE * 0.8)
    assert stack.proxy.faulted > 0  # the outage was really hit
    client.flush(timeout=30)
    assert stack.stored_spans(prefix) == 600
    assert stack.stored_scores(f"{prefix}-score") == 60
    assert client._resources.dropped == {"spans": 0, "scores": 0}


def test_past_the_budget_every_loss_is_counted(
    stack: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("LANGFUSE_NB_RETRY_BUDGET_SECONDS", "1")
    client = stack.client()
    prefix = f"past-{uuid.uuid4().hex[:8]}"
    stack.proxy.fail(500, seconds=OUTAGE)
    with caplog.at_level(logging.WARNING, logger="langfuse_nb"):
        _traffic(client, prefix, spans=300, scores=30, seconds=OUTAGE)
        assert _wait_until(lambda: stack.proxy.current_fault() is None, OUTAGE + 1)
        time.sleep(client._resources.processor.delivery.probe_interval)  # the next batch is tried
        _traffic(client, f"{prefix}-after", spans=100, scores=10, seconds=0.5)  # the endpoint is back
        client.flush(timeout=30)
    dropped = client._resources.dropped
    assert dropped["spans"] > 0 and dropped["scores"] > 0
    # nothing vanishes silently: every span and score is either stored or counted as dropped
    assert stack.stored_spans(prefix) + dropped["spans"] == 400
    assert stack.stored_scores(f"{prefix}") + dropped["scores"] == 40
    assert stack.stored_spans(f"{prefix}-after") == 100  # after recovery data flows again
    assert client._resources.processor.dropped_spans == dropped["spans"]
    drops = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert 1 <= len(drops) <= 2  # reported once per channel and outage, not once per batch


def test_full_queue_drops_are_counted(stack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "100")
    client = stack.client(flush_at=50)
    prefix = f"queue-{uuid.uuid4().hex[:8]}"
    stack.proxy.hang(seconds=OUTAGE)
    _traffic(client, prefix, spans=400, scores=1, seconds=0.5)
    client.flush(timeout=30)
    dropped = client._resources.dropped["spans"]
    assert dropped > 0
    assert stack.stored_spans(prefix) + dropped == 400


def test_flush_returns_by_its_deadline_and_keeps_the_data(stack: Any) -> None:
    client = stack.client()
    prefix = f"dl-{uuid.uuid4().hex[:8]}"
    stack.proxy.hang(seconds=OUTAGE)
    _traffic(client, prefix, spans=50, scores=5, seconds=0.1)
    start = time.monotonic()
    client.flush(timeout=1.0)
    assert time.monotonic() - start < 1.5
    client.flush(timeout=30)  # the outage ends: nothing was given up
    assert stack.stored_spans(prefix) == 50 and stack.stored_scores(prefix) == 5


def test_shutdown_during_an_outage_is_bounded_and_counts_what_is_left(stack: Any) -> None:
    client = stack.client()
    prefix = f"sd-{uuid.uuid4().hex[:8]}"
    stack.proxy.fail(503, seconds=30)
    _traffic(client, prefix, spans=100, scores=10, seconds=0.1)
    start = time.monotonic()
    client.shutdown(timeout=1.5)
    assert time.monotonic() - start < 2.5
    assert _wait_until(lambda: client._resources.dropped == {"spans": 100, "scores": 10}, 5)
    stack.proxy.clear()
    stack.clients.remove(client)


def test_flush_and_shutdown_without_timeouts_against_a_down_server_are_bounded(stack: Any) -> None:
    """Documented: flush() waits at most 30 s; a shutdown() right after a flush() that ran out, 5 s more."""
    from langfuse_nb.tracing import provider

    client = stack.client()
    stack.proxy.fail(503, seconds=60)
    _traffic(client, "bounded", spans=10, scores=1, seconds=0.05)
    original = provider.DEFAULT_FLUSH_TIMEOUT
    provider.DEFAULT_FLUSH_TIMEOUT = 2.0  # the same rule as 30 s, faster
    try:
        start = time.monotonic()
        client.flush()
        client.shutdown()
        elapsed = time.monotonic() - start
    finally:
        provider.DEFAULT_FLUSH_TIMEOUT = original
    assert elapsed < 2.0 + provider.SHUTDOWN_GRACE_AFTER_FAILED_FLUSH + 1.0
    stack.proxy.clear()
    stack.clients.remove(client)


def test_no_thread_is_left_retrying_after_shutdown(stack: Any) -> None:
    before = set(threading.enumerate())
    client = stack.client()
    stack.proxy.fail(500, seconds=30)
    _traffic(client, "threads", spans=20, scores=2, seconds=0.05)
    ours = [t for t in threading.enumerate() if t not in before and t.name.startswith("langfuse-nb-")]
    assert ours  # the span and score workers of this client
    client.shutdown(timeout=0.5)
    assert _wait_until(lambda: not any(t.is_alive() for t in ours), 5)
    stack.proxy.clear()
    stack.clients.remove(client)
