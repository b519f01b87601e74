"""``TracingMixin`` of the ``Langfuse`` client: starting observations (``start_span``,
``start_as_current_observation``, ...), updating the active one and its trace, the current ids, and
``flush`` / ``shutdown``. ``client.py`` composes it into ``Langfuse`` and re-exports it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from opentelemetry import trace as trace_api

from langfuse_nb._settings import Settings
from langfuse_nb.sdk import params as P
from langfuse_nb.sdk import registry
from langfuse_nb.sdk.encode import encode_observation, encode_trace
from langfuse_nb.sdk.ids import NO_ACTIVE_SPAN, create_observation_id, create_trace_id, current_span_ids
from langfuse_nb.sdk.observations import (
    LangfuseEvent,
    LangfuseGeneration,
    LangfuseObservationWrapper,
    LangfuseSpan,
    _deprecated,
)
from langfuse_nb.sdk.params import public_signature
from langfuse_nb.sdk.starting import ObservationContext, _set_error_status, start_observation

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from langfuse_nb.sdk.media import MediaManager
    from langfuse_nb.sdk.observations import (
        LangfuseAgent,
        LangfuseChain,
        LangfuseEmbedding,
        LangfuseEvaluator,
        LangfuseGuardrail,
        LangfuseRetriever,
        LangfuseTool,
    )
    from langfuse_nb.tracing.provider import TracingResources

logger = logging.getLogger("langfuse_nb")


class TracingMixin:
    """Starting, updating and inspecting observations; flush and shutdown."""

    _settings: Settings
    _enabled: bool
    _resources: TracingResources | None
    _tracer: Any

    if TYPE_CHECKING:  # provided by Langfuse, the class this mixin is composed into

        def _prepare_io(self, params: dict[str, Any], span: Any) -> dict[str, Any]: ...

        _media: MediaManager

    # -- start ----------------------------------------------------------------------------
    @public_signature
    def start_span(
        self, *, trace_context: P.TraceContext | None = None, name: str, **params: Unpack[P.SpanFields]
    ) -> LangfuseSpan:
        """Start a span; the caller must ``end()`` it."""
        return self._start(name, "span", params, trace_context)

    @public_signature
    def start_as_current_span(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseSpan]:
        """A span that is current inside a ``with`` block."""
        return self._start_current(name, "span", params, trace_context, end_on_exit)

    @overload
    def start_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["span"] = "span",
        **params: Unpack[P.SpanFields],
    ) -> LangfuseSpan: ...
    @overload
    def start_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["generation"],
        **params: Unpack[P.GenerationFields],
    ) -> LangfuseGeneration: ...
    @overload
    def start_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["agent"],
        **params: Unpack[P.SpanFields],
    ) -> LangfuseAgent: ...
    @overload
    def start_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["tool"],
        **params: Unpack[P.SpanFields],
    ) -> LangfuseTool: ...
    @overload
    def start_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["chain"],
        **params: Unpack[P.SpanFields],
    ) -> LangfuseChain: ...
    @overload
    def start_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["retriever"],
        **params: Unpack[P.SpanFields],
    ) -> LangfuseRetriever: ...
    @overload
    def start_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["evaluator"],
        **params: Unpack[P.SpanFields],
    ) -> LangfuseEvaluator: ...
    @overload
    def start_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["embedding"],
        **params: Unpack[P.GenerationFields],
    ) -> LangfuseEmbedding: ...
    @overload
    def start_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["guardrail"],
        **params: Unpack[P.SpanFields],
    ) -> LangfuseGuardrail: ...
    @public_signature
    def start_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: P.ObservationTypeLiteralNoEvent = "span",
        **params: Unpack[P.GenerationFields],
    ) -> LangfuseObservationWrapper:
        """Start an observation of any type; the caller must ``end()`` it."""
        return self._start(name, as_type, params, trace_context)

    @overload
    def start_as_current_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["span"] = "span",
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseSpan]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["generation"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.GenerationFields],
    ) -> ObservationContext[LangfuseGeneration]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["agent"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseAgent]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["tool"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseTool]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["chain"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseChain]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["retriever"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseRetriever]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["evaluator"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseEvaluator]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["embedding"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.GenerationFields],
    ) -> ObservationContext[LangfuseEmbedding]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: Literal["guardrail"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseGuardrail]: ...
    @public_signature
    def start_as_current_observation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        as_type: P.ObservationTypeLiteralNoEvent = "span",
        end_on_exit: bool | None = None,
        **params: Unpack[P.GenerationFields],
    ) -> ObservationContext[LangfuseObservationWrapper]:
        """An observation of any type that is current inside a ``with`` block."""
        return self._start_current(name, as_type, params, trace_context, end_on_exit)

    @public_signature
    def start_generation(
        self, *, trace_context: P.TraceContext | None = None, name: str, **params: Unpack[P.GenerationFields]
    ) -> LangfuseGeneration:
        _deprecated("start_generation", "start_observation(as_type='generation')")
        return self._start(name, "generation", params, trace_context)

    @public_signature
    def start_as_current_generation(
        self,
        *,
        trace_context: P.TraceContext | None = None,
        name: str,
        end_on_exit: bool | None = None,
        **params: Unpack[P.GenerationFields],
    ) -> ObservationContext[LangfuseGeneration]:
        _deprecated("start_as_current_generation", "start_as_current_observation(as_type='generation')")
        return self._start_current(name, "generation", params, trace_context, end_on_exit)

    @public_signature
    def create_event(
        self, *, trace_context: P.TraceContext | None = None, name: str, **params: Unpack[P.SpanFields]
    ) -> LangfuseEvent:
        """Record a zero-duration event."""
        return self._start(name, "event", params, trace_context)

    def _start(self, name: str, as_type: str, params: Any, trace_context: Any) -> Any:
        if params:
            P.check_params(params, P.GENERATION_NAMES, "start_observation")
        return start_observation(
            self,  # type: ignore[arg-type]  # the composed Langfuse, as the mixin is only used there
            name=name,
            as_type=as_type,
            params=params,
            trace_context=trace_context,
        )

    def _start_current(
        self, name: str, as_type: str, params: Any, trace_context: Any, end_on_exit: bool | None
    ) -> Any:
        P.check_params(params, P.GENERATION_NAMES, "start_as_current_observation")
        return ObservationContext(
            self,  # type: ignore[arg-type]  # the composed Langfuse, as the mixin is only used there
            name,
            as_type,
            params,
            trace_context=trace_context,
            end_on_exit=end_on_exit,
        )

    # -- update the active observation / trace ----------------------------------------------
    @public_signature
    def update_current_generation(
        self, *, name: str | None = None, **params: Unpack[P.GenerationFields]
    ) -> None:
        """Update the active observation with generation fields (its type is kept, F7)."""
        self._update_current(name, params, generation_like=True)

    @public_signature
    def update_current_span(self, *, name: str | None = None, **params: Unpack[P.SpanFields]) -> None:
        """Update the active observation (its type is kept, F7)."""
        self._update_current(name, params, generation_like=False)

    @public_signature
    def update_current_trace(self, **params: Unpack[P.TraceFields]) -> None:
        """Set trace attributes (name, user, session, tags, ...) on the active observation."""
        span = self._current_recording_span()
        if span is None:
            return
        try:
            span.set_attributes(encode_trace(self._prepare_io(cast(dict[str, Any], params), span)))
        except Exception:
            logger.warning("langfuse_nb: update_current_trace failed", exc_info=True)

    def _update_current(self, name: str | None, fields: Mapping[str, Any], *, generation_like: bool) -> None:
        span = self._current_recording_span()
        if span is None:
            return
        try:
            params = cast(dict[str, Any], fields)
            if name is not None:
                span.update_name(name)
            params = self._prepare_io(params, span)
            span.set_attributes(encode_observation(params, generation_like=generation_like))
            _set_error_status(span, params)
        except Exception:
            logger.warning("langfuse_nb: update of the current observation failed", exc_info=True)

    def _current_recording_span(self) -> Any:
        if not self._enabled:
            return None  # disabled tracing stays silent (DEVIATIONS: no "no active span" warnings)
        span = trace_api.get_current_span()
        if span.is_recording():
            return span
        logger.warning(NO_ACTIVE_SPAN)
        return None

    # -- ids -----------------------------------------------------------------------------
    def get_current_trace_id(self) -> str | None:
        """Trace id of the active observation, if any."""
        ids = current_span_ids() if self._enabled else None
        return ids[0] if ids else None

    def get_current_observation_id(self) -> str | None:
        """Id of the active observation, if any."""
        ids = current_span_ids() if self._enabled else None
        return ids[1] if ids else None

    @staticmethod
    def create_trace_id(*, seed: str | None = None) -> str:
        """A random trace id, or a deterministic one derived from ``seed``."""
        return create_trace_id(seed=seed)

    @staticmethod
    def _create_observation_id(*, seed: str | None = None) -> str:
        """A random observation (span) id, or a deterministic one derived from ``seed``."""
        return create_observation_id(seed=seed)

    # the seed's own examples call it without the underscore
    create_observation_id = _create_observation_id

    # -- lifecycle ------------------------------------------------------------------------
    def flush(self, timeout: float | None = None) -> None:
        """Send everything queued (spans, scores, media); bounded by ``timeout`` seconds (F15)."""
        try:
            if self._resources is not None:
                self._resources.flush(timeout)  # spans, scores and the shared media manager
            elif "_media" in self.__dict__:
                self._media.flush(timeout)
        except Exception:
            logger.warning("langfuse_nb: flush failed", exc_info=True)

    def shutdown(self, timeout: float | None = None) -> None:
        """Flush and stop the background threads; a new ``Langfuse(...)`` afterwards works (F15)."""
        try:
            if self._resources is not None:
                self._resources.shutdown(timeout)
            elif "_media" in self.__dict__:
                self._media.shutdown(timeout)
        except Exception:
            logger.warning("langfuse_nb: shutdown failed", exc_info=True)
        finally:
            registry.unregister(self)  # type: ignore[arg-type]
