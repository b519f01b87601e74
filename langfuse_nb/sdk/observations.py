"""The observation classes: ``LangfuseObservationWrapper`` wraps one OpenTelemetry span, and one subclass per
observation type only fixes ``as_type`` (registered in ``OBSERVATION_CLASSES`` when defined).

How an observation is started (type lookup, parent context, creation attributes, ``ObservationContext``) is
in ``starting.py``; its names are re-exported here, where callers import them.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast, overload

from langfuse_nb.sdk import params as P
from langfuse_nb.sdk.encode import GENERATION_LIKE, encode_observation, encode_trace
from langfuse_nb.sdk.params import (
    ObservationTypeLiteral,
    ObservationTypeLiteralNoEvent,
    SpanLevel,
    public_signature,
)
from langfuse_nb.sdk.starting import (
    OBSERVATION_CLASSES,
    ObservationContext,
    _set_error_status,
    start_observation,
)
from langfuse_nb.sdk.starting import observation_class as observation_class
from langfuse_nb.sdk.starting import parent_context as parent_context
from langfuse_nb.sdk.starting import remote_parent_context as remote_parent_context
from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A

if TYPE_CHECKING:
    from typing_extensions import Self, Unpack

    from langfuse_nb.sdk.client import Langfuse

__all__ = [
    "ObservationTypeLiteral",
    "ObservationTypeLiteralNoEvent",
    "LangfuseObservationWrapper",
    "LangfuseSpan",
    "LangfuseGeneration",
    "LangfuseEvent",
    "LangfuseAgent",
    "LangfuseTool",
    "LangfuseChain",
    "LangfuseRetriever",
    "LangfuseEvaluator",
    "LangfuseEmbedding",
    "LangfuseGuardrail",
    "OBSERVATION_CLASSES",
]
logger = logging.getLogger("langfuse_nb")


class LangfuseObservationWrapper:
    """Wraps one OpenTelemetry span; subclasses only fix the observation type."""

    as_type: ClassVar[str] = "span"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        OBSERVATION_CLASSES[cls.as_type] = cls

    def __init__(
        self, *, otel_span: Any, langfuse_client: Langfuse, environment: str | None = None, **params: Any
    ) -> None:
        self._otel_span = otel_span
        self._langfuse_client = langfuse_client
        self._observation_type = self.as_type
        self._environment = environment or langfuse_client._settings.environment
        if otel_span.is_recording():
            attrs = {A.OBSERVATION_TYPE: self.as_type}
            if self._environment and A.ENVIRONMENT not in (otel_span.attributes or ()):
                attrs[A.ENVIRONMENT] = self._environment  # a propagated experiment environment wins
            if params:
                attrs.update(self._encode(params))
            otel_span.set_attributes(attrs)
            _set_error_status(otel_span, params)

    @classmethod
    def _started(
        cls, span: Any, client: Langfuse, environment: str | None, params: dict[str, Any]
    ) -> LangfuseObservationWrapper:
        """Wrap a span whose type and environment were set at creation (the fast path)."""
        obs = cls.__new__(cls)
        obs._otel_span, obs._langfuse_client = span, client
        obs._observation_type, obs._environment = cls.as_type, environment
        if params and span.is_recording():
            span.set_attributes(obs._encode(params))  # nothing when only a level is left to apply
            _set_error_status(span, params)
        return obs

    @property
    def trace_id(self) -> str:
        """32-hex trace id (computed on access: most observations are never asked)."""
        return format(self._otel_span.get_span_context().trace_id, "032x")

    @property
    def id(self) -> str:
        """16-hex observation (span) id."""
        return format(self._otel_span.get_span_context().span_id, "016x")

    # -- lifecycle -------------------------------------------------------------------------
    def end(self, *, end_time: int | None = None) -> Self:
        """End the span (``end_time`` in ns since the epoch)."""
        self._otel_span.end(end_time=end_time)
        return self

    @public_signature
    def update(self, *, name: str | None = None, **params: Unpack[P.GenerationFields]) -> Self:
        """Set more fields on this observation (later values win); never changes its type (F7)."""
        span = self._otel_span
        if not span.is_recording():
            return self
        try:
            if name is not None:
                span.update_name(name)
            span.set_attributes(self._encode(params))
            _set_error_status(span, params)
        except Exception:
            logger.warning("langfuse_nb: update of observation failed", exc_info=True)
        return self

    @public_signature
    def update_trace(self, **params: Unpack[P.TraceFields]) -> Self:
        """Write trace-level attributes (name, user, session, tags, ...) onto this span."""
        span = self._otel_span
        if not span.is_recording():
            return self
        try:
            fields = self._langfuse_client._prepare_io(cast(dict[str, Any], params), span)
            span.set_attributes(encode_trace(fields))
        except Exception:
            logger.warning("langfuse_nb: update_trace failed", exc_info=True)
        return self

    @public_signature
    def score(self, **params: Unpack[P.ObservationScoreFields]) -> None:
        """Score this observation."""
        self._langfuse_client.create_score(trace_id=self.trace_id, observation_id=self.id, **params)

    @public_signature
    def score_trace(self, **params: Unpack[P.ObservationScoreFields]) -> None:
        """Score the trace this observation belongs to."""
        self._langfuse_client.create_score(trace_id=self.trace_id, **params)

    # -- children --------------------------------------------------------------------------
    @overload
    def start_observation(
        self, *, name: str, as_type: Literal["span"] = "span", **params: Unpack[P.SpanFields]
    ) -> LangfuseSpan: ...
    @overload
    def start_observation(
        self, *, name: str, as_type: Literal["generation"], **params: Unpack[P.GenerationFields]
    ) -> LangfuseGeneration: ...
    @overload
    def start_observation(
        self, *, name: str, as_type: Literal["agent"], **params: Unpack[P.SpanFields]
    ) -> LangfuseAgent: ...
    @overload
    def start_observation(
        self, *, name: str, as_type: Literal["tool"], **params: Unpack[P.SpanFields]
    ) -> LangfuseTool: ...
    @overload
    def start_observation(
        self, *, name: str, as_type: Literal["chain"], **params: Unpack[P.SpanFields]
    ) -> LangfuseChain: ...
    @overload
    def start_observation(
        self, *, name: str, as_type: Literal["retriever"], **params: Unpack[P.SpanFields]
    ) -> LangfuseRetriever: ...
    @overload
    def start_observation(
        self, *, name: str, as_type: Literal["evaluator"], **params: Unpack[P.SpanFields]
    ) -> LangfuseEvaluator: ...
    @overload
    def start_observation(
        self, *, name: str, as_type: Literal["embedding"], **params: Unpack[P.GenerationFields]
    ) -> LangfuseEmbedding: ...
    @overload
    def start_observation(
        self, *, name: str, as_type: Literal["guardrail"], **params: Unpack[P.SpanFields]
    ) -> LangfuseGuardrail: ...
    @overload
    def start_observation(
        self, *, name: str, as_type: Literal["event"], **params: Unpack[P.SpanFields]
    ) -> LangfuseEvent: ...
    @public_signature
    def start_observation(
        self, *, name: str, as_type: ObservationTypeLiteral = "span", **params: Unpack[P.GenerationFields]
    ) -> LangfuseObservationWrapper:
        """Start a child observation of any type (the caller ends it)."""
        return self._child(name, as_type, params)

    @overload
    def start_as_current_observation(
        self,
        *,
        name: str,
        as_type: Literal["span"] = "span",
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseSpan]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        name: str,
        as_type: Literal["generation"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.GenerationFields],
    ) -> ObservationContext[LangfuseGeneration]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        name: str,
        as_type: Literal["agent"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseAgent]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        name: str,
        as_type: Literal["tool"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseTool]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        name: str,
        as_type: Literal["chain"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseChain]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        name: str,
        as_type: Literal["retriever"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseRetriever]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        name: str,
        as_type: Literal["evaluator"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseEvaluator]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        name: str,
        as_type: Literal["embedding"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.GenerationFields],
    ) -> ObservationContext[LangfuseEmbedding]: ...
    @overload
    def start_as_current_observation(
        self,
        *,
        name: str,
        as_type: Literal["guardrail"],
        end_on_exit: bool | None = None,
        **params: Unpack[P.SpanFields],
    ) -> ObservationContext[LangfuseGuardrail]: ...
    @public_signature
    def start_as_current_observation(
        self,
        *,
        name: str,
        as_type: ObservationTypeLiteralNoEvent = "span",
        end_on_exit: bool | None = None,
        **params: Unpack[P.GenerationFields],
    ) -> ObservationContext[LangfuseObservationWrapper]:
        """Start a child observation that is current inside a ``with`` block."""
        return self._child_context(name, as_type, params, end_on_exit)

    def _child(self, name: str, as_type: str, params: Any) -> Any:
        if params:
            P.check_params(params, P.GENERATION_NAMES, "start_observation")
        client = self._langfuse_client
        return start_observation(client, name=name, as_type=as_type, params=params, parent=self)

    def _child_context(self, name: str, as_type: str, params: Any, end_on_exit: bool | None = None) -> Any:
        if params:
            P.check_params(params, P.GENERATION_NAMES, "start_as_current_observation")
        client = self._langfuse_client
        return ObservationContext(client, name, as_type, params, parent=self, end_on_exit=end_on_exit)

    # -- helpers ---------------------------------------------------------------------------
    def _encode(self, params: Mapping[str, Any]) -> dict[str, Any]:
        params = self._langfuse_client._prepare_io(cast(dict[str, Any], params), self._otel_span)
        return encode_observation(params, generation_like=self.as_type in GENERATION_LIKE)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} id={self.id} trace_id={self.trace_id}>"


def _deprecated(old: str, new: str) -> None:
    # the reference's exact text: users filter warnings on it
    warnings.warn(
        f"{old} is deprecated and will be removed in a future version. Use {new} instead.",
        DeprecationWarning,
        stacklevel=3,
    )


class LangfuseSpan(LangfuseObservationWrapper):
    """A general-purpose span."""

    as_type = "span"

    def start_span(
        self,
        name: str,
        input: Any | None = None,
        output: Any | None = None,
        metadata: Any | None = None,
        version: str | None = None,
        level: SpanLevel | None = None,
        status_message: str | None = None,
    ) -> LangfuseSpan:
        """Start a child span (the caller ends it); fields may be passed positionally, as upstream allows.

        The one signature here spelled out instead of ``Unpack[SpanFields]`` (positional fields cannot be
        unpacked); a test keeps it equal to ``SpanFields``.
        """
        params = {k: v for k, v in locals().items() if k in P.SPAN_NAMES and v is not None}
        return self._child(name, "span", params)

    @public_signature
    def start_as_current_span(
        self, *, name: str, **params: Unpack[P.SpanFields]
    ) -> ObservationContext[LangfuseSpan]:
        _deprecated("start_as_current_span", "start_as_current_observation(as_type='span')")
        return self._child_context(name, "span", params)

    @public_signature
    def start_generation(self, *, name: str, **params: Unpack[P.GenerationFields]) -> LangfuseGeneration:
        _deprecated("start_generation", "start_observation(as_type='generation')")
        return self._child(name, "generation", params)

    @public_signature
    def start_as_current_generation(
        self, *, name: str, **params: Unpack[P.GenerationFields]
    ) -> ObservationContext[LangfuseGeneration]:
        _deprecated("start_as_current_generation", "start_as_current_observation(as_type='generation')")
        return self._child_context(name, "generation", params)

    @public_signature
    def create_event(self, *, name: str, **params: Unpack[P.SpanFields]) -> LangfuseEvent:
        """Record a zero-duration event as a child of this span (F8)."""
        return self._child(name, "event", params)


class LangfuseGeneration(LangfuseObservationWrapper):
    """An LLM call: model, parameters, usage, cost, prompt."""

    as_type = "generation"


class LangfuseEvent(LangfuseObservationWrapper):
    """A point-in-time event; it cannot be updated after creation."""

    as_type = "event"

    @public_signature
    def update(self, *, name: str | None = None, **params: Unpack[P.GenerationFields]) -> Self:
        logger.warning(
            "langfuse_nb: Attempted to update LangfuseEvent observation. Events cannot be updated "
            "after creation."
        )
        return self


class LangfuseAgent(LangfuseObservationWrapper):
    as_type = "agent"


class LangfuseTool(LangfuseObservationWrapper):
    as_type = "tool"


class LangfuseChain(LangfuseObservationWrapper):
    as_type = "chain"


class LangfuseRetriever(LangfuseObservationWrapper):
    as_type = "retriever"


class LangfuseEvaluator(LangfuseObservationWrapper):
    as_type = "evaluator"


class LangfuseEmbedding(LangfuseObservationWrapper):
    as_type = "embedding"


class LangfuseGuardrail(LangfuseObservationWrapper):
    as_type = "guardrail"


OBSERVATION_CLASSES["span"] = LangfuseSpan
