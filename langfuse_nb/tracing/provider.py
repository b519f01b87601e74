"""Per-public-key tracing resources: tracer provider, processor, tracer and background workers."""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace as trace_api
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased

from langfuse_nb._retry import Delivery, mark_unreachable
from langfuse_nb._settings import Settings
from langfuse_nb.tracing.exporter import build_exporter
from langfuse_nb.tracing.processor import LangfuseSpanProcessor
from langfuse_nb.tracing.worker import BatchWorker
from langfuse_nb.wire.attributes import SDK_SCOPE_NAME, SDK_VERSION
from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A

logger = logging.getLogger("langfuse_nb")
DEFAULT_FLUSH_TIMEOUT = 30.0  # F15: flush/shutdown without a timeout are still bounded
# a timeout-less shutdown() right after a timeout-less flush() that ran out against a failing endpoint
# waits only this much more: flush() + shutdown() cost ~35 s against a down server, not 60 s
SHUTDOWN_GRACE_AFTER_FAILED_FLUSH = 5.0
EXIT_TIMEOUT = 5.0  # what interpreter exit waits for queued spans and scores, per public key
# a flush that times out while one export request has waited this long means the endpoint hangs
HUNG_AFTER = 1.0


@dataclass
class TracingResources:
    """What all ``Langfuse`` objects sharing one public key share."""

    settings: Settings
    provider: Any
    processor: LangfuseSpanProcessor
    tracer: Any
    owns_provider: bool
    workers: dict[str, BatchWorker[Any]] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)
    deliveries: dict[str, Delivery] = field(default_factory=dict)
    closed: bool = False
    _flush_ran_out: bool = False
    # reentrant: a worker's factory asks for its channel's Delivery while the worker is being created
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def worker(self, name: str, factory: Callable[[], BatchWorker[Any]]) -> BatchWorker[Any]:
        """The named background worker of this key, created on first use."""
        found = self.workers.get(name)
        if found is None:
            with self._lock:
                found = self.workers.get(name) or self.workers.setdefault(name, factory())
        return found

    def delivery(self, name: str) -> Delivery:
        """Outage state and drop count of the named channel (``spans``, ``scores``)."""
        found = self.deliveries.get(name)
        if found is None:
            with self._lock:
                found = self.deliveries.setdefault(name, _new_delivery(name, self.settings))
        return found

    @property
    def dropped(self) -> dict[str, int]:
        """Items that will never reach the server, per channel (``{"spans": 0, "scores": 0}``)."""
        return {"spans": 0, "scores": 0, **{name: d.dropped for name, d in self.deliveries.items()}}

    def flush(self, timeout: float | None = None) -> bool:
        """Flush spans, then every worker; ``timeout`` bounds the whole call, not each part."""
        left = _deadline(timeout)
        ok = self.processor.force_flush(int(left() * 1000))
        for w in [*self.workers.values(), *self.shared.values()]:
            if hasattr(w, "flush"):  # workers, and shared helpers such as the media manager
                ok = w.flush(left()) is not False and ok
        if not ok:
            self._note_slow_flush(timeout)
        self._flush_ran_out = not ok and timeout is None
        return ok

    def _note_slow_flush(self, timeout: float | None) -> None:
        """Remember an endpoint that hangs, so callers after a flush (the trace link) do not wait for it."""
        hung = self.processor.hung_for()
        if hung >= HUNG_AFTER:
            waited = f"{timeout:g} s" if timeout is not None else "the flush"
            mark_unreachable(self.settings.base_url, f"no answer for {hung:.1f} s; {waited} ran out")

    def shutdown(self, timeout: float | None = None) -> None:
        if self.closed:
            return
        self.closed = True
        if timeout is None and self._flush_ran_out:
            timeout = SHUTDOWN_GRACE_AFTER_FAILED_FLUSH
        left = _deadline(timeout)
        try:
            self.processor.shutdown(left())
            for w in [*self.shared.values(), *self.workers.values()]:
                if hasattr(w, "shutdown"):
                    self._shutdown_worker(w, left())
        finally:
            _forget(self)

    def _shutdown_worker(self, worker: Any, timeout: float) -> None:
        """Stop one worker; what a channel worker could not send in time is counted as dropped."""
        ok = worker.shutdown(timeout)
        name = next((n for n, w in self.workers.items() if w is worker), None)
        if ok is False and name in self.deliveries and isinstance(worker, BatchWorker):
            delivery = self.deliveries[name]
            delivery.abort.set()
            delivery.drop(worker.abandon(), "not sent before shutdown")


def _new_delivery(name: str, settings: Settings) -> Delivery:
    return Delivery(name, base_url=settings.base_url, budget=settings.retry_budget)


def _deadline(timeout: float | None) -> Callable[[], float]:
    """Seconds left of one overall budget (F15: several queues share the caller's timeout)."""
    end = time.monotonic() + (DEFAULT_FLUSH_TIMEOUT if timeout is None else max(0.0, timeout))
    return lambda: max(0.0, end - time.monotonic())


_registry: dict[str, TracingResources] = {}
_registry_lock = threading.Lock()
_global_provider_is_ours = False


def get_resources(settings: Settings) -> TracingResources:
    """Reuse the live resources of this public key (later arguments are ignored), else build them."""
    key = settings.public_key or ""
    found = _registry.get(key)
    if found is not None and not found.closed:
        _warn_if_changed(found.settings, settings)
        return found
    with _registry_lock:
        found = _registry.get(key)
        if found is None or found.closed:
            found = _build(settings)
            _registry[key] = found
        return found


_PIPELINE_FIELDS = (
    "secret_key",
    "base_url",
    "timeout",
    "flush_at",
    "flush_interval",
    "sample_rate",
    "blocked_instrumentation_scopes",
    "additional_headers",
    "environment",
    "release",
)


def _warn_if_changed(old: Settings, new: Settings) -> None:
    """Same key, different pipeline settings: say so instead of silently keeping the old ones."""
    if old is new:  # settings resolved from unchanged arguments and environment are reused as one object
        return
    changed = [f for f in _PIPELINE_FIELDS if getattr(old, f) != getattr(new, f)]
    if changed:
        logger.warning(
            "langfuse_nb: a client for public key %s already exists; its export settings are kept "
            "(changed: %s). Call shutdown() on it first to apply new settings.",
            new.public_key,
            ", ".join(changed),
        )


def live_resources() -> list[TracingResources]:
    return [r for r in _registry.values() if not r.closed]


def _forget(resources: TracingResources) -> None:
    with _registry_lock:
        key = resources.settings.public_key or ""
        if _registry.get(key) is resources:
            del _registry[key]


def _build(settings: Settings) -> TracingResources:
    provider, owns = _choose_provider(settings)
    processor = LangfuseSpanProcessor(
        build_exporter(settings),
        public_key=settings.public_key or "",
        blocked_scopes=settings.blocked_instrumentation_scopes,
        max_batch=settings.flush_at,
        interval=settings.flush_interval,
        max_queue=settings.span_queue_size,
        # F12: release goes on spans only when the provider (and so its resource) is not ours
        span_release=None if owns else settings.release,
        delivery=_new_delivery("spans", settings),
    )
    provider.add_span_processor(processor)
    if owns:
        # atexit runs handlers last-registered-first: moving ours behind the provider's own exit hook
        # makes one 5 s budget cover spans and scores, instead of the provider's 5 s and then ours
        atexit.unregister(_shutdown_all)
        atexit.register(_shutdown_all)
    tracer = provider.get_tracer(SDK_SCOPE_NAME, SDK_VERSION, attributes={"public_key": settings.public_key})
    return TracingResources(
        settings=settings,
        provider=provider,
        processor=processor,
        tracer=tracer,
        owns_provider=owns,
        deliveries={"spans": processor.delivery},
    )


def _choose_provider(settings: Settings) -> tuple[Any, bool]:
    """The user's provider if given or globally installed by them, else a new one of ours."""
    global _global_provider_is_ours
    if settings.tracer_provider is not None:
        return settings.tracer_provider, False
    current = trace_api.get_tracer_provider()
    if isinstance(current, TracerProvider) and not _global_provider_is_ours:
        return current, False
    provider = _new_provider(settings)
    if not isinstance(current, TracerProvider) and not _global_provider_is_ours:
        # like the reference: the first client becomes the global provider, so other
        # OpenTelemetry instrumentations in the process are exported to Langfuse too
        trace_api.set_tracer_provider(provider)
        _global_provider_is_ours = trace_api.get_tracer_provider() is provider
    return provider, True


def _new_provider(settings: Settings) -> TracerProvider:
    attrs = {}
    if settings.environment:
        attrs[A.ENVIRONMENT] = settings.environment
    if settings.release:
        attrs[A.RELEASE] = settings.release
    sampler = TraceIdRatioBased(settings.sample_rate) if settings.sample_rate < 1.0 else None
    return TracerProvider(resource=Resource.create(attrs), sampler=sampler)


def _shutdown_all() -> None:
    for resources in live_resources():
        try:
            resources.shutdown(timeout=EXIT_TIMEOUT)
        except Exception:
            logger.debug("langfuse_nb: shutdown at exit failed", exc_info=True)


atexit.register(_shutdown_all)
