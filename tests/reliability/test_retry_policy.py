"""The one retry policy: which failures are retried, how long to wait, and when to stop."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from langfuse_nb._retry import Delivery, RetryPolicy, is_retryable_error, retry_after, retryable_status
from langfuse_nb.errors import ApiError, NotFoundError
from langfuse_nb.tracing.worker import BatchWorker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("status", "retried"),
    [
        (500, True),
        (502, True),
        (503, True),
        (429, True),
        (408, True),
        (400, False),
        (401, False),
        (404, False),
    ],
)
def test_retryable_statuses(status: int, retried: bool) -> None:
    assert retryable_status(status) is retried
    assert is_retryable_error(ApiError(status_code=status, body="")) is retried


def test_retryable_errors() -> None:
    assert is_retryable_error(httpx.ConnectError("refused"))
    assert is_retryable_error(httpx.ReadTimeout("slow"))
    assert not is_retryable_error(NotFoundError({}))
    assert not is_retryable_error(ValueError("bug"))


def test_retry_after_forms() -> None:
    assert retry_after(httpx.Headers({"Retry-After": "3"})) == 3.0
    assert retry_after(httpx.Headers({"retry-after-ms": "250"})) == 0.25
    assert retry_after({"retry-after": "soon"}) is None


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(initial_delay=0.5, max_delay=4.0, jitter=0.25)
    for retry, full in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (9, 4.0)]:
        assert 0.75 * full <= policy.backoff(retry) <= full


def test_retry_after_replaces_the_backoff_up_to_max_hint() -> None:
    policy = RetryPolicy(max_hint=30.0)
    assert policy.delay(0, 7.0) == 7.0
    assert policy.delay(0, 120.0) <= 0.5  # an unreasonable hint falls back to the backoff


def test_attempt_budget() -> None:
    state = RetryPolicy(max_attempts=3).start()
    assert state.next_delay() is not None and state.next_delay() is not None
    assert state.next_delay() is None


def test_time_budget_ends_with_one_last_attempt_at_the_deadline() -> None:
    clock = Clock()
    state = RetryPolicy(max_attempts=None, budget=10.0, max_delay=8.0, jitter=0).start(clock=clock)
    clock.now += 9.0
    assert state.next_delay(hint=5.0) == pytest.approx(1.0)  # capped to what is left
    clock.now += 1.0
    assert state.next_delay() is None


def test_call_retries_then_raises_the_last_error() -> None:
    calls: list[int] = []
    sleeps: list[float] = []

    def flaky() -> Any:
        calls.append(1)
        raise ApiError(status_code=503, body="")

    with pytest.raises(ApiError):
        RetryPolicy(max_attempts=3).call(flaky, sleep=sleeps.append)
    assert len(calls) == 3 and len(sleeps) == 2


def test_call_does_not_retry_a_final_error() -> None:
    calls: list[int] = []

    def missing() -> Any:
        calls.append(1)
        raise NotFoundError({})

    with pytest.raises(NotFoundError):
        RetryPolicy(max_attempts=5).call(missing, sleep=lambda s: None)
    assert calls == [1]


def test_wait_stops_at_once_when_aborted() -> None:
    abort = threading.Event()
    abort.set()
    assert RetryPolicy(max_attempts=None).start().wait(abort=abort) is False


def test_delivery_budget_counts_from_the_first_failure() -> None:
    clock = Clock()
    delivery = Delivery("spans", budget=10.0, clock=clock)
    assert delivery.should_attempt() and not delivery.budget_spent()
    delivery.failed("HTTP 503")
    clock.now += 10.0
    assert delivery.budget_spent()
    delivery.attempted()
    assert not delivery.should_attempt()  # past the budget: at most one probe per probe_interval
    clock.now += delivery.probe_interval
    assert delivery.should_attempt()
    delivery.succeeded()
    assert delivery.failing_since is None and not delivery.budget_spent()


def test_delivery_counts_drops_and_warns_once_per_outage(caplog: pytest.LogCaptureFixture) -> None:
    delivery = Delivery("scores")
    delivery.failed("HTTP 500")
    delivery.drop(3, "test")
    delivery.drop(2, "test")
    assert delivery.dropped == 5
    assert sum("dropped" in r.getMessage() for r in caplog.records if r.levelname == "WARNING") == 1


def test_worker_abandon_releases_flush_waiters_and_counts_items() -> None:
    gate = threading.Event()
    worker: BatchWorker[int] = BatchWorker(lambda batch: gate.wait(5), max_batch=1, interval=60)
    worker.put(1)  # the handler blocks on this one
    for i in range(5):
        worker.put(i)
    assert worker.flush(0.2) is False  # the handler is stuck on the first item
    assert worker.abandon() == 5 and worker.pending == 0
    gate.set()
    worker.shutdown(2)
