"""The one retry policy of the SDK, and what the background channels remember about outages.

Used by the REST client (`langfuse_nb.api._http`), prompt fetches, media uploads, score ingestion and span
export. Stdlib only at import time, so every layer (api, tracing, sdk) can import it.

- `RetryPolicy`: which failures are retried (connection errors, timeouts, 5xx, 408, 429), the wait before
  each retry (exponential backoff with jitter, or the server's ``Retry-After`` when it is reasonable) and
  the budget: a number of attempts, a time budget, or both.
- `Delivery`: one background channel (spans, scores): since when its endpoint has been failing, how many
  items it dropped, and one warning per outage instead of one per batch.
- `mark_unreachable` / `unreachable`: endpoints that recently timed out or refused connections, so
  interactive paths (the trace link, a prompt with a fallback) do not wait for them again.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

logger = logging.getLogger("langfuse_nb")
T = TypeVar("T")

RETRY_STATUSES = frozenset({408, 429})
DEFAULT_BUDGET_SECONDS = 60.0  # how long background channels keep retrying through an outage
REMEMBER_UNREACHABLE_SECONDS = 30.0  # how long interactive paths skip an endpoint that did not answer


def retryable_status(status: int, extra: frozenset[int] = frozenset()) -> bool:
    """5xx, 408 and 429 are worth another try (plus ``extra``, e.g. the REST client's 409)."""
    return status >= 500 or status in RETRY_STATUSES or status in extra


def retry_after(headers: Mapping[str, str] | Any) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms`` or ``Retry-After``), if any.

    ``headers`` is any case-insensitive mapping (httpx, requests) or a dict with lower-case keys.
    """
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(float(millis) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    value = str(value).strip()
    if value.isdigit():
        return float(value)
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)  # HTTP dates are GMT
    return max(parsed.timestamp() - time.time(), 0.0)


def is_transport_error(exc: BaseException) -> bool:
    """Connection refused/reset, DNS failure, timeouts: the request may never have been answered."""
    import httpx  # loaded already by whoever raised; kept out of `import langfuse_nb`

    return isinstance(exc, (httpx.TransportError, OSError, TimeoutError))


def is_retryable_error(exc: BaseException) -> bool:
    """An exception worth retrying: a transport error, or an API error with a retryable status."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return retryable_status(status)
    if status is None and hasattr(exc, "status_code") and hasattr(exc, "body"):
        return True  # an ApiError without a status: the response never came
    return is_transport_error(exc)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry; see the module docstring.

    ``max_attempts`` counts the first try (None: until the time budget is spent); ``budget`` is in seconds
    from the first attempt (None: attempts only). A ``Retry-After`` up to ``max_hint`` seconds replaces the
    backoff; a longer one is ignored (the budget decides).
    """

    max_attempts: int | None = 3
    budget: float | None = None
    initial_delay: float = 0.5
    max_delay: float = 10.0
    max_hint: float = 30.0
    jitter: float = 0.25

    def backoff(self, retry: int) -> float:
        """Wait before retry number ``retry`` (0-based): doubling from ``initial_delay``, jittered down."""
        delay = min(self.initial_delay * 2.0**retry, self.max_delay)
        return delay * (1 - self.jitter * random.random())

    def delay(self, retry: int, hint: float | None = None) -> float:
        if hint is not None and hint <= self.max_hint:
            return hint
        return self.backoff(retry)

    def start(
        self, *, started: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> RetryState:
        """A fresh attempt counter; ``started`` (a ``clock`` time) moves the start of the time budget."""
        return RetryState(self, clock() if started is None else started, clock)

    def call(
        self,
        fn: Callable[[], T],
        *,
        retryable: Callable[[BaseException], bool] = is_retryable_error,
        sleep: Callable[[float], None] = time.sleep,
    ) -> T:
        """``fn()``, retried on retryable exceptions within the budget; the last error propagates."""
        state = self.start()
        while True:
            try:
                return fn()
            except Exception as exc:
                if not retryable(exc):
                    raise
                delay = state.next_delay(getattr(exc, "retry_after", None))
                if delay is None:
                    raise
            sleep(delay)


@dataclass
class RetryState:
    """Attempts made so far under one `RetryPolicy`."""

    policy: RetryPolicy
    started: float
    clock: Callable[[], float] = time.monotonic
    retries: int = 0

    def remaining(self) -> float | None:
        """Seconds left of the time budget (None: no time budget)."""
        if self.policy.budget is None:
            return None
        return max(0.0, self.started + self.policy.budget - self.clock())

    def next_delay(self, hint: float | None = None) -> float | None:
        """The wait before the next attempt, or None when the attempts or the time are spent."""
        attempts = self.policy.max_attempts
        if attempts is not None and self.retries + 1 >= attempts:
            return None
        delay = self.policy.delay(self.retries, hint)
        left = self.remaining()
        if left is not None:
            if left <= 0:
                return None
            delay = min(delay, left)  # one last attempt when the budget ends
        self.retries += 1
        return delay

    def wait(
        self,
        hint: float | None = None,
        *,
        abort: threading.Event | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> bool:
        """Sleep before the next attempt; False (at once) when the budget is spent or ``abort`` is set."""
        delay = self.next_delay(hint)
        if delay is None:
            return False
        if abort is not None:
            return not abort.wait(delay)
        sleep(delay)
        return True


# -- endpoints that did not answer ----------------------------------------------------------------------
_unreachable: dict[str, tuple[float, str]] = {}


def _key(base_url: str) -> str:
    return base_url.rstrip("/")


def mark_unreachable(base_url: str, reason: str, *, seconds: float = REMEMBER_UNREACHABLE_SECONDS) -> None:
    """Remember for ``seconds`` that ``base_url`` did not answer (timeout, refused connection, hang)."""
    key = _key(base_url)
    if key not in _unreachable:  # said once, until it answers again (mark_reachable)
        logger.warning(
            "langfuse_nb: %s is not answering (%s); spans and scores are kept and retried in "
            "the background, traced cells do not wait for it",
            key,
            reason,
        )
    _unreachable[key] = (time.monotonic() + seconds, reason)


def mark_reachable(base_url: str) -> None:
    if _unreachable.pop(_key(base_url), None) is not None:
        logger.info("langfuse_nb: %s answers again", _key(base_url))


def unreachable(base_url: str) -> str | None:
    """Why ``base_url`` is remembered as not answering, or None."""
    found = _unreachable.get(_key(base_url))
    if found is None or found[0] < time.monotonic():
        return None
    return found[1]


# -- a local server still starting ------------------------------------------------------------------------
# %load_ext launches the local server and returns before it answers; a REST call in the next cell (Run All)
# that finds nothing listening there waits for the launch instead of failing.
_starting: dict[str, threading.Event] = {}
STARTUP_WAIT_SECONDS = 20.0


def expect_startup(base_url: str, ready: threading.Event) -> None:
    """Requests to ``base_url`` that find nothing listening wait until ``ready`` is set (a launch)."""
    _starting[_key(base_url)] = ready


def starting(base_url: str) -> bool:
    """True while ``base_url`` is a server being launched that nobody has waited for yet."""
    return _key(base_url) in _starting


def wait_for_startup(base_url: str, timeout: float = STARTUP_WAIT_SECONDS) -> bool:
    """If ``base_url`` is a server being launched: wait for it (once) and return True; else False."""
    ready = _starting.get(_key(base_url))
    if ready is None:
        return False
    ready.wait(timeout)
    _starting.pop(_key(base_url), None)  # one wait per launch: a server that failed to start is not awaited
    return True


# -- background channels ---------------------------------------------------------------------------------
@dataclass
class Delivery:
    """Outage state and drop counts of one background channel (``"spans"``, ``"scores"``).

    A channel keeps retrying while its endpoint has been failing for less than ``budget`` seconds. Past the
    budget, a batch is tried once (no retries) when the last attempt ended ``probe_interval`` seconds ago
    or more, and dropped otherwise, until the endpoint answers again: a backlog is let go quickly and data
    flows again within half a second of recovery. Drops are counted and warned about once per outage.
    """

    name: str
    base_url: str = ""
    budget: float = DEFAULT_BUDGET_SECONDS
    probe_interval: float = 0.5
    clock: Callable[[], float] = time.monotonic
    failing_since: float | None = None
    last_error: str | None = None
    dropped: int = 0
    abort: threading.Event = field(default_factory=threading.Event)
    _last_attempt: float = 0.0
    _warned_drop: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def policy(self) -> RetryPolicy:
        """Retries of one batch: no attempt limit, bounded by what is left of the outage budget."""
        return RetryPolicy(max_attempts=None, budget=self.budget, max_delay=5.0)

    def start(self) -> RetryState:
        """Attempt counter of one batch; its time budget started when the outage did."""
        return self.policy().start(started=self.failing_since, clock=self.clock)

    def should_attempt(self) -> bool:
        """False when the budget is spent and a probe was made recently: drop without sending."""
        if self.abort.is_set():
            return False
        if not self.budget_spent():
            return True
        return self.clock() - self._last_attempt >= self.probe_interval

    def budget_spent(self) -> bool:
        since = self.failing_since
        return since is not None and self.clock() - since >= self.budget

    def attempted(self) -> None:
        """Call when an attempt ended (so a hung attempt does not count as recent probing)."""
        self._last_attempt = self.clock()

    def succeeded(self) -> None:
        if self.failing_since is not None:
            logger.info(
                "langfuse_nb: %s delivered again after %.1fs of failures",
                self.name,
                self.clock() - self.failing_since,
            )
        self.failing_since = None
        self.last_error = None
        self._warned_drop = False
        if self.base_url:
            mark_reachable(self.base_url)

    def failed(self, error: str, *, no_answer: bool = False) -> None:
        """An attempt failed with a retryable error; ``no_answer`` for timeouts and refused connections."""
        if self.failing_since is None:
            self.failing_since = self.clock()
            logger.warning(
                "langfuse_nb: sending %s failed (%s); retrying for up to %.0fs", self.name, error, self.budget
            )
        self.last_error = error
        if no_answer and self.base_url:
            mark_unreachable(self.base_url, error)

    def drop(self, count: int, reason: str) -> None:
        """Count ``count`` items as lost; the first drop of an outage is a warning, later ones debug."""
        if count <= 0:
            return
        with self._lock:
            self.dropped += count
            first = not self._warned_drop
            self._warned_drop = True
        log = logger.warning if first else logger.debug
        log(
            "langfuse_nb: dropped %d %s (%s); %d dropped so far. See docs/reliability.md",
            count,
            self.name,
            reason,
            self.dropped,
        )


__all__ = [
    "DEFAULT_BUDGET_SECONDS",
    "REMEMBER_UNREACHABLE_SECONDS",
    "Delivery",
    "RetryPolicy",
    "RetryState",
    "is_retryable_error",
    "is_transport_error",
    "mark_reachable",
    "mark_unreachable",
    "retry_after",
    "retryable_status",
    "unreachable",
]
