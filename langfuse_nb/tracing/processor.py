"""Span processor: propagated attributes on start; project/scope filter, listeners and batching on end."""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry import context as context_api
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from langfuse_nb.tracing import recorder
from langfuse_nb.tracing.propagation import EXPERIMENT_ENVIRONMENT, get_propagated
from langfuse_nb.tracing.worker import BatchWorker
from langfuse_nb.wire.attributes import SDK_SCOPE_NAME
from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A

logger = logging.getLogger("langfuse_nb")


class LangfuseSpanProcessor(SpanProcessor):
    """Batches ended spans of this project to the exporter on a background thread.

    Unlike the OTel ``BatchSpanProcessor`` (queue of 2048) the queue is large enough that a burst
    of tens of thousands of spans is never dropped, and ``on_end`` is a deque append.
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
    ) -> None:
        self._exporter = exporter
        self._public_key = public_key
        self._blocked = frozenset(blocked_scopes)
        self._span_release = span_release
        self._closed = False
        self._failed_exports = 0
        self._scopes: dict[int, tuple[Any, bool]] = {}
        self._worker: BatchWorker[ReadableSpan] = BatchWorker(
            self._export, max_batch=max_batch, interval=interval, max_queue=max_queue,
            name=f"langfuse-nb-spans-{public_key[:12]}",
        )

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
        if scope is not None:
            if scope.name == SDK_SCOPE_NAME and not self._is_own(span):
                return  # another project's span (multi-project isolation)
            if scope.name in self._blocked:
                return
        if recorder._listeners:
            recorder.emit(span)
        self._worker.put(span)

    def _is_own(self, span: ReadableSpan) -> bool:
        scope = span.instrumentation_scope
        if scope is None:
            return False
        known = self._scopes.get(id(scope))  # scopes live as long as their tracer: cache the answer
        if known is None or known[0] is not scope:
            attrs = scope.attributes
            mine = (scope.name == SDK_SCOPE_NAME and attrs is not None
                    and attrs.get("public_key") == self._public_key)
            known = self._scopes[id(scope)] = (scope, mine)
        return known[1]

    def _export(self, batch: list[ReadableSpan]) -> None:
        result = self._exporter.export(batch)
        if result is not SpanExportResult.SUCCESS:
            self._failed_exports += 1
            if self._failed_exports in (1, 10, 100) or self._failed_exports % 1000 == 0:
                logger.warning("langfuse_nb: failed to export %d spans (failure #%d)",
                               len(batch), self._failed_exports)

    @property
    def failed_exports(self) -> int:
        """Export batches that failed (and were dropped) since start."""
        return self._failed_exports

    @property
    def pending(self) -> int:
        return self._worker.pending

    def force_flush(self, timeout_millis: int | None = 30_000) -> bool:
        timeout = None if timeout_millis is None else timeout_millis / 1000
        return self._worker.flush(timeout)

    def shutdown(self, timeout: float | None = 5.0) -> None:
        if self._closed:
            return
        self._worker.shutdown(timeout)
        self._closed = True
        try:
            self._exporter.shutdown()
        except Exception:
            logger.debug("langfuse_nb: exporter shutdown failed", exc_info=True)
