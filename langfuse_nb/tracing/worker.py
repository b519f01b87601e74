"""The one background-batching primitive: a queue drained by a daemon thread in batches."""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
logger = logging.getLogger("langfuse_nb")


class _Marker:
    """Queued by flush(): set once every item queued before it has been handled."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


class BatchWorker(Generic[T]):
    """Collect items on any thread; call ``handler(list_of_items)`` on one daemon thread.

    A batch is handled when ``max_batch`` items are waiting, when ``interval`` seconds have
    passed, on ``flush()`` and on ``shutdown()``. A backlog is drained in batches of up to
    ``max_drain`` items (default ``max_batch``), so a flush of many small items is a few requests,
    not hundreds. ``put`` never blocks; beyond ``max_queue`` items are dropped with one warning.
    Handler errors are logged and never propagate.

    With ``prepare``, the worker thread turns each queued item into its compact form (spans: their OTLP
    bytes) before handling it, and whenever ``compact()`` is called: a handler that waits to retry calls
    it, so a backlog that builds up during an outage is held compactly. ``prepare`` returning None
    drops the item (the caller counts it).
    """

    def __init__(
        self,
        handler: Callable[[list[T]], Any],
        *,
        max_batch: int = 512,
        interval: float = 5.0,
        max_queue: int = 1_000_000,
        max_drain: int | None = None,
        name: str = "langfuse-nb-worker",
        prepare: Callable[[T], Any] | None = None,
    ) -> None:
        self._handler = handler
        self._prepare = prepare
        self._max_batch = max(1, int(max_batch))
        self._max_drain = max(self._max_batch, int(max_drain or 0))
        self._interval = max(0.001, float(interval))
        self._max_queue = max_queue
        self._queue: deque[Any] = deque()  # as put: filled on any thread
        self._ready: deque[Any] = deque()  # prepared, in order, flush markers included: the worker's own
        self._wake = threading.Event()
        self._closed = False
        self._warned_full = False
        self.dropped_full = 0  # items refused because the queue was full
        self._name = name
        self._thread = self._start_thread()
        _LIVE.add(self)

    def _start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        thread.start()
        return thread

    def _restart_in_child(self) -> None:
        """After fork: the parent's thread is gone and its queued items are the parent's to send."""
        self._queue = deque()
        self._ready = deque()
        self._wake = threading.Event()
        if not self._closed:
            self._thread = self._start_thread()

    def put(self, item: T) -> bool:
        """Queue one item; False when closed or full (dropped)."""
        queue = self._queue
        if self._closed:
            return False
        if len(queue) + len(self._ready) >= self._max_queue:
            self.dropped_full += 1
            if not self._warned_full:
                self._warned_full = True
                logger.warning("langfuse_nb: background queue full (%d items); dropping", self._max_queue)
            return False
        queue.append(item)
        if len(queue) >= self._max_batch and not self._wake.is_set():
            self._wake.set()
        return True

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far has been handled; False on timeout."""
        if not self._thread.is_alive():
            self._drain()  # worker gone (e.g. after fork): do the work here
            return True
        marker = _Marker()
        self._queue.append(marker)
        self._wake.set()
        return marker.done.wait(timeout)

    def shutdown(self, timeout: float | None = None) -> bool:
        """Flush, then stop the thread; later puts are refused."""
        end = None if timeout is None else time.monotonic() + max(0.0, timeout)
        ok = self.flush(timeout)
        self._closed = True
        self._wake.set()
        # one budget for flush and join: shutdown(timeout) returns within ``timeout``
        self._thread.join(None if end is None else max(0.0, end - time.monotonic()))
        return ok

    def abandon(self) -> int:
        """Give up on everything still queued (after a timed-out shutdown); returns how many items."""
        count = 0
        for items in (self._ready, self._queue):
            while items:
                try:
                    item = items.popleft()
                except IndexError:  # the worker thread took the last one
                    break
                if isinstance(item, _Marker):
                    item.done.set()  # nobody waits for these any more, but never leave a waiter hanging
                else:
                    count += 1
        return count

    @property
    def pending(self) -> int:
        return len(self._queue) + len(self._ready)

    def compact(self) -> None:
        """Move what was put so far to the ready queue, prepared; the worker thread (or its handler) only."""
        queue, ready, prepare = self._queue, self._ready, self._prepare
        while queue:
            try:
                item = queue.popleft()
            except IndexError:  # abandon() on another thread took the last one
                break
            if prepare is not None and not isinstance(item, _Marker):
                item = self._prepared(item)
                if item is None:
                    continue
            ready.append(item)

    def _prepared(self, item: Any) -> Any:
        try:
            return self._prepare(item)  # type: ignore[misc]
        except Exception:  # the telemetry path never raises into the process, nor stops this thread
            logger.warning("langfuse_nb: could not prepare a queued item; dropped", exc_info=True)
            return None

    def _run(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            self._drain()
            if self._closed and not self._queue:
                return

    def _drain(self) -> None:
        ready = self._ready
        batch: list[Any] = []
        self.compact()
        while ready:
            try:
                item = ready.popleft()
            except IndexError:  # abandon() on another thread took the last one
                break
            if isinstance(item, _Marker):
                self._handle(batch)
                batch = []
                item.done.set()
                continue
            batch.append(item)
            if len(batch) >= self._max_drain:
                self._handle(batch)
                batch = []
                self.compact()  # what arrived while sending joins the backlog, in its compact form
            elif not ready:
                self.compact()
        self._handle(batch)

    def _handle(self, batch: list[Any]) -> None:
        if not batch:
            return
        start = time.monotonic()
        try:
            self._handler(batch)
        except Exception:  # the telemetry path never raises into the process
            logger.warning("langfuse_nb: background batch of %d items failed", len(batch), exc_info=True)
        logger.debug("langfuse_nb: handled %d items in %.3fs", len(batch), time.monotonic() - start)


class _Job:
    __slots__ = ("done", "error", "fn", "result")

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()

    def run(self) -> None:
        try:
            self.result = self.fn()
        except BaseException as exc:  # handed back to the caller, which decides
            self.error = exc
        self.done.set()


class Runner:
    """A daemon thread that runs one call at a time for another thread, which keeps working meanwhile.

    The span worker sends a batch through it and encodes the spans that end in the meantime, so a slow or
    hung endpoint does not leave them waiting as objects, and encoding overlaps the server's work.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def call(self, fn: Callable[[], R], *, meanwhile: Callable[[], Any], every: float) -> R:
        """``fn()`` on the runner thread; ``meanwhile()`` now and every ``every`` s until it returns."""
        job = _Job(fn)
        self._started().put(job)
        meanwhile()
        while not job.done.wait(every):
            meanwhile()
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[no-any-return]  # what fn returned

    def _started(self) -> queue.SimpleQueue[_Job | None]:
        if self._pid != os.getpid():  # forked: the parent's thread does not exist here
            self._jobs, self._thread, self._pid = queue.SimpleQueue(), None, os.getpid()
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                    self._thread.start()
        return self._jobs

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            job.run()

    def close(self) -> None:
        """Let the thread end after the call it is running, if any."""
        if self._thread is not None and self._pid == os.getpid():
            self._jobs.put(None)
            self._thread = None


# Workers alive in this process; a forked child (multiprocessing, joblib) restarts them with empty queues,
# so it neither loses its own items to a thread that does not exist nor sends the parent's a second time.
_LIVE: weakref.WeakSet[BatchWorker[Any]] = weakref.WeakSet()


def _restart_all_in_child() -> None:
    for worker in list(_LIVE):
        worker._restart_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_restart_all_in_child)
