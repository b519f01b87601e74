"""Span processor: propagated attributes on start; project/scope filter, listeners and batching on end."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from opentelemetry import context as context_api
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from langfuse_nb._retry import Delivery, RetryState
from langfuse_nb.tracing import recorder
from langfuse_nb.tracing.exporter import Attempt
from langfuse_nb.tracing.propagation import EXPERIMENT_ENVIRONMENT, get_propagated
from langfuse_nb.tracing.worker import BatchWorker, Runner
from langfuse_nb.wire.attributes import SDK_SCOPE_NAME
from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A

logger = logging.getLogger("langfuse_nb")
COMPACT_EVERY = 0.05  # seconds between encodings of the queue while a batch waits to be retried
PROBE_EVERY = 0.25  # seconds between checks whether a refusing endpoint listens again


class LangfuseSpanProcessor(SpanProcessor):
    """Batches ended spans of this project to the exporter on a background thread.

    Unlike the OTel ``BatchSpanProcessor`` (queue of 2048) the queue is large enough that a burst
    of tens of thousands of spans is never dropped, and ``on_end`` is a deque append. A batch that fails
    with a retryable error is retried (backoff, ``Retry-After``) until the endpoint has been failing for
    ``delivery.budget`` seconds; what is dropped after that, or refused by the server, is counted in
    ``dropped_spans`` (see docs/reliability.md).
    """

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        public_key: str,
        blocked_scopes: tuple[str, ...] = (),
        max_batch: int = 512,
        interval: float = 5.0,
        max_queue: int = 100_000,
        span_release: str | None = None,
        delivery: Delivery | None = None,
    ) -> None:
        self._exporter = exporter
        self.delivery = delivery or Delivery("spans")
        self._public_key = public_key
        self._blocked = frozenset(blocked_scopes)
        self._span_release = span_release
        self._closed = False
        self._failed_exports = 0
        self._scopes: dict[int, tuple[Any, bool]] = {}
        # the scope of the previous ended span, and whether spans of that scope are exported
        self._last: tuple[Any, bool] = (object(), True)
        # our exporter takes spans encoded on the worker thread: a queued span is its OTLP bytes, not
        # a ReadableSpan (~0.3 KB instead of several), and a batch is sent without encoding it again
        encode = getattr(exporter, "encode", None) if hasattr(exporter, "send_encoded") else None
        self._encode: Callable[[ReadableSpan], Any] | None = encode
        self._worker: BatchWorker[ReadableSpan] = BatchWorker(
            self._export,
            max_batch=max_batch,
            interval=interval,
            max_queue=max_queue,
            name=f"langfuse-nb-spans-{public_key[:12]}",
            prepare=None if encode is None else self._prepare,
        )
        self._runner = Runner(f"langfuse-nb-post-{public_key[:12]}")

    def on_start(self, span: Span, parent_context: Any = None) -> None:
        if self._closed:
            return
        ctx = parent_context if parent_context is not None else context_api.get_current()
        propagated = get_propagated(ctx)
        if propagated:
            span.set_attributes(propagated)
            if A.EXPERIMENT_ITEM_ROOT_OBSERVATION_ID in propagated:
                span.set_attribute(A.ENVIRONMENT, EXPERIMENT_ENVIRONMENT)
        if self._span_release is not None and self._is_own(span):
            span.set_attribute(A.RELEASE, self._span_release)  # F12: user-provided provider

    def on_end(self, span: ReadableSpan) -> None:
        if self._closed:
            return
        scope = span.instrumentation_scope
        last = self._last  # read and replaced as one tuple: threads ending spans race here
        if last[0] is not scope:  # spans of one tracer come in runs: decide once per run
            last = self._last = (scope, self._exports(span))
        if not last[1]:
            return
        if recorder._listeners:
            recorder.emit(span)
        if not self._worker.put(span) and not self._closed:
            self._drop(1, "queue full")

    def _exports(self, span: ReadableSpan) -> bool:
        """Whether spans of this span's scope are exported by this processor."""
        scope = span.instrumentation_scope
        if scope is None:
            return True
        if scope.name == SDK_SCOPE_NAME and not self._is_own(span):
            return False  # another project's span (multi-project isolation)
        return scope.name not in self._blocked

    def _is_own(self, span: ReadableSpan) -> bool:
        scope = span.instrumentation_scope
        if scope is None:
            return False
        known = self._scopes.get(id(scope))  # scopes live as long as their tracer: cache the answer
        if known is None or known[0] is not scope:
            attrs = scope.attributes
            mine = (
                scope.name == SDK_SCOPE_NAME
                and attrs is not None
                and attrs.get("public_key") == self._public_key
            )
            known = self._scopes[id(scope)] = (scope, mine)
        return known[1]

    def _prepare(self, span: ReadableSpan) -> Any:
        """The queued form of ``span`` (worker thread); None, counted as dropped, if it cannot be encoded."""
        try:
            return self._encode(span)  # type: ignore[misc]
        except Exception as exc:
            logger.warning("langfuse_nb: could not encode span %r: %s", getattr(span, "name", "?"), exc)
            self._drop(1, f"encoding failed: {exc}")
            return None

    def _export(self, batch: list[Any]) -> None:
        """Send one batch, retrying within the outage budget; count it as dropped when that fails."""
        delivery = self.delivery
        if not delivery.should_attempt():
            self._drop(len(batch), delivery.last_error or "endpoint failing")
            return
        state = delivery.start()
        while True:
            attempt = self._send(batch)
            delivery.attempted()
            if attempt.ok:
                delivery.succeeded()
                return
            if not attempt.retryable:
                self._drop(len(batch), f"refused: {attempt.error}")
                return
            delivery.failed(attempt.error, no_answer=attempt.no_answer)
            state.started = delivery.failing_since or state.started
            if not self._wait(state, attempt, delivery.abort):
                reason = "shutdown" if delivery.abort.is_set() else f"retried for {delivery.budget:.0f}s"
                self._drop(len(batch), f"{reason}; last error {attempt.error}")
                return

    def _wait(self, state: RetryState, attempt: Attempt, abort: threading.Event) -> bool:
        """Wait before a retry, encoding what is queued meanwhile; False when out of budget or aborted.

        After a refused connection the wait ends as soon as the port accepts connections again: a local
        server that restarts gets the backlog at once, not after up to 5 s of backoff.
        """
        delay = state.next_delay(attempt.retry_after)
        if delay is None:
            return False
        listening = getattr(self._exporter, "listening", None) if attempt.refused else None
        now = time.monotonic()
        end, probe_at = now + delay, now + PROBE_EVERY
        while True:
            self._worker.compact()  # spans ended during an outage wait as bytes, not as objects
            now = time.monotonic()
            if end - now <= 0:
                return not abort.is_set()
            if listening is not None and now >= probe_at:
                if listening():
                    return not abort.is_set()
                probe_at = time.monotonic() + PROBE_EVERY
            if abort.wait(min(end - now, COMPACT_EVERY)):
                return False

    def _send(self, batch: list[Any]) -> Attempt:
        if self._encode is not None:
            # posted from the runner thread: meanwhile this thread encodes the spans that end
            post = functools.partial(self._exporter.send_encoded, batch)  # type: ignore[attr-defined]
            return self._runner.call(post, meanwhile=self._worker.compact, every=COMPACT_EVERY)
        send = getattr(self._exporter, "send", None)
        if send is not None:
            return send(batch)  # type: ignore[no-any-return]
        # a plain OpenTelemetry exporter says only success or failure
        ok = self._exporter.export(batch) is SpanExportResult.SUCCESS
        return Attempt(ok=ok, retryable=not ok, error="" if ok else "export failed")

    def _drop(self, count: int, reason: str) -> None:
        if count <= 0:
            return
        self._failed_exports += 1
        self.delivery.drop(count, reason)

    @property
    def failed_exports(self) -> int:
        """Export batches that failed and were dropped (or spans refused by a full queue) since start."""
        return self._failed_exports

    @property
    def dropped_spans(self) -> int:
        """Spans that will never reach the server: dropped past the retry budget, refused, or queue full."""
        return self.delivery.dropped

    def hung_for(self) -> float:
        """Seconds the export request in flight has waited for an answer (0 when none)."""
        hung = getattr(self._exporter, "hung_for", None)
        return float(hung()) if hung is not None else 0.0

    @property
    def pending(self) -> int:
        return self._worker.pending

    def force_flush(self, timeout_millis: int | None = 30_000) -> bool:
        timeout = None if timeout_millis is None else timeout_millis / 1000
        return self._worker.flush(timeout)

    def shutdown(self, timeout: float | None = 5.0) -> None:
        if self._closed:
            return
        ok = self._worker.shutdown(timeout)
        self._closed = True
        if not ok:  # the endpoint did not take everything in time: stop retrying, count what is left
            self.delivery.abort.set()
            self._drop(self._worker.abandon(), "not sent before shutdown")
        self._runner.close()
        try:
            self._exporter.shutdown()
        except Exception:
            logger.debug("langfuse_nb: exporter shutdown failed", exc_info=True)
