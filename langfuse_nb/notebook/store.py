"""What this kernel traced: ended spans grouped by trace, kept for the inline views."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from langfuse_nb.notebook.records import ObservationRecord, from_span


class SpanStore:
    """Bounded map trace id -> ended spans (latest traces, capped spans each); converted only when drawn."""

    def __init__(self, max_traces: int = 200, max_spans: int = 5000) -> None:
        self._max_traces = max_traces
        self._max_spans = max_spans
        self._traces: OrderedDict[str, list[Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, span: Any) -> None:
        """Span-listener entry point: cheap (an append), runs on the thread that ended the span."""
        trace_id = format(span.context.trace_id, "032x")
        with self._lock:
            spans = self._traces.get(trace_id)
            if spans is None:
                spans = self._traces[trace_id] = []
                if len(self._traces) > self._max_traces:
                    self._traces.popitem(last=False)
            if len(spans) < self._max_spans:  # a runaway trace must not eat the kernel's memory
                spans.append(span)

    def records(self, trace_id: str) -> list[ObservationRecord]:
        with self._lock:
            spans = list(self._traces.get(trace_id, ()))
        return [from_span(span) for span in spans]

    def trace_ids(self) -> list[str]:
        """Most recent last."""
        with self._lock:
            return list(self._traces)

    def __contains__(self, trace_id: object) -> bool:
        return trace_id in self._traces

    def clear(self) -> None:
        with self._lock:
            self._traces.clear()


# One store per process: it outlives %reload_ext so earlier traces stay viewable.
STORE = SpanStore()


def install() -> None:
    from langfuse_nb.tracing.recorder import add_span_listener

    add_span_listener(STORE)


def uninstall() -> None:
    from langfuse_nb.tracing.recorder import remove_span_listener

    remove_span_listener(STORE)
