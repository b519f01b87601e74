"""Observation wrappers (one class per type, found through a registry) and how they are started."""

from __future__ import annotations

import functools
import inspect
import logging
import time
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar, cast, overload

from opentelemetry import context as context_api
from opentelemetry import trace as trace_api
from opentelemetry.trace import NonRecordingSpan, SpanContext, Status, StatusCode, TraceFlags

from langfuse_nb.sdk import params as P
from langfuse_nb.sdk.encode import GENERATION_LIKE, encode_observation, encode_trace, may_hold_media
from langfuse_nb.sdk.ids import create_observation_id, normalize_span_id, normalize_trace_id
from langfuse_nb.sdk.params import (
    ObservationTypeLiteral,
    ObservationTypeLiteralNoEvent,
    SpanLevel,
    public_signature,
)
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
OBSERVATION_CLASSES: dict[str, type[LangfuseObservationWrapper]] = {}
_ERROR = StatusCode.ERROR


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


def _set_error_status(span: Any, params: Mapping[str, Any]) -> None:
    if params.get("level") == "ERROR":
        span.set_status(Status(_ERROR, params.get("status_message")))


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


def observation_class(as_type: str) -> type[LangfuseObservationWrapper]:
    """The wrapper class of ``as_type``; an unknown type falls back to a span, as in the reference."""
    cls = OBSERVATION_CLASSES.get(as_type)
    if cls is None:
        logger.warning("langfuse_nb: Unknown observation type: %s, falling back to span", as_type)
        return LangfuseSpan
    return cls


# -- starting spans ----------------------------------------------------------------------------
def parent_context(trace_context: dict[str, str] | None, parent: LangfuseObservationWrapper | None) -> Any:
    """The OTel context a new span starts in (None = the current one)."""
    if parent is not None:
        return trace_api.set_span_in_context(parent._otel_span, context_api.get_current())
    if trace_context:
        return remote_parent_context(trace_context)
    return None


def remote_parent_context(trace_context: dict[str, str]) -> Any:
    """K4: an explicit trace id (and optional parent span id) as a never-exported parent."""
    raw_trace_id = trace_context.get("trace_id")
    trace_id = normalize_trace_id(raw_trace_id)  # upper-case hex is accepted, as the reference does
    if trace_id is None:
        logger.warning(
            "langfuse_nb: Passed trace ID '%s' is not a valid 32 lowercase hex char Langfuse "
            "trace id. Ignoring trace ID.",
            raw_trace_id,
        )
        return None  # the observation starts where it would without a trace context
    raw_parent_id = trace_context.get("parent_span_id")
    parent_id = normalize_span_id(raw_parent_id) if raw_parent_id else None
    if raw_parent_id and parent_id is None:
        logger.warning(
            "langfuse_nb: Passed span ID '%s' is not a valid 16 lowercase hex char Langfuse span "
            "id. Ignoring parent span ID.",
            raw_parent_id,
        )
    parent_id = parent_id or create_observation_id()
    remote = SpanContext(
        trace_id=int(trace_id, 16),
        span_id=int(parent_id, 16),
        is_remote=False,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    return trace_api.set_span_in_context(NonRecordingSpan(remote), context_api.get_current())


def start_observation(
    client: Langfuse,
    *,
    name: str,
    as_type: str,
    params: dict[str, Any],
    parent: LangfuseObservationWrapper | None = None,
    trace_context: dict[str, str] | None = None,
    ctx: Any = None,
    encoded: dict[str, Any] | None = None,
) -> LangfuseObservationWrapper:
    """Start a span and wrap it; events end immediately with zero duration.

    ``encoded`` holds attributes the caller already encoded (``@observe``'s input).
    """
    cls = observation_class(as_type)
    as_type = cls.as_type  # an unknown type fell back to span
    environment = parent._environment if parent is not None else client._settings.environment
    try:
        return _start(cls, client, name, as_type, params, parent, trace_context, ctx, encoded, environment)
    except Exception:  # a tracing failure (e.g. a malformed trace id) must not break the caller
        logger.warning(
            "langfuse_nb: could not start observation %r; continuing untraced", name, exc_info=True
        )
        return cls._started(trace_api.INVALID_SPAN, client, environment, {})


def _start(
    cls: type[LangfuseObservationWrapper],
    client: Langfuse,
    name: str,
    as_type: str,
    params: dict[str, Any],
    parent: LangfuseObservationWrapper | None,
    trace_context: dict[str, str] | None,
    ctx: Any,
    encoded: dict[str, Any] | None,
    environment: str | None,
) -> LangfuseObservationWrapper:
    if ctx is None:
        ctx = parent_context(trace_context, parent)
    as_root = bool(trace_context) and parent is None and ctx is not None  # K4, for a usable context
    attributes = _creation_attributes(as_type, environment, as_root, encoded)
    if params and client._enabled:
        params = _encode_into(attributes, client, params, as_type)
    start_time = time.time_ns() if as_type == "event" else None
    span = client._tracer.start_span(name, context=ctx, start_time=start_time, attributes=attributes)
    obs = cls._started(span, client, environment, params)
    if start_time is not None:
        span.end(end_time=start_time)
    return obs


def _creation_attributes(
    as_type: str, environment: str | None, as_root: bool, encoded: dict[str, Any] | None
) -> dict[str, Any]:
    """Type, environment and as_root are set at creation: one attribute write instead of two,
    and the processor's on_start (propagated values, e.g. the experiment environment) still wins."""
    attributes: dict[str, Any] = {A.OBSERVATION_TYPE: as_type}
    if environment:
        attributes[A.ENVIRONMENT] = environment
    if as_root:
        attributes[A.AS_ROOT] = True
    if encoded:
        attributes.update(encoded)
    return attributes


def _encode_into(
    attributes: dict[str, Any], client: Langfuse, params: dict[str, Any], as_type: str
) -> dict[str, Any]:
    """Encode ``params`` into the creation attributes when no media walk is needed.

    Returns what is left to apply after the span started: everything (media needs the span's
    ids), the ERROR level (it sets the span status), or nothing.
    """
    early = _encode_early(client, params, as_type in GENERATION_LIKE)
    if early is None:
        return params
    attributes.update(early)
    if params.get("level") == "ERROR":
        return {"level": "ERROR", "status_message": params.get("status_message")}
    return {}


_IO_FIELDS = ("input", "output", "metadata")


def _encode_early(client: Langfuse, params: dict[str, Any], generation_like: bool) -> dict[str, Any] | None:
    """Encoded attributes when no field needs the media walk (which needs the span's ids), else None."""
    for field in _IO_FIELDS:
        value = params.get(field)
        if value is not None and may_hold_media(value):
            return None
    if client._mask is not None:
        mask = client._mask_value
        params = {k: mask(v) if k in _IO_FIELDS and v is not None else v for k, v in params.items()}
    return encode_observation(params, generation_like=generation_like)


_O = TypeVar("_O", bound=LangfuseObservationWrapper, covariant=True)
_F = TypeVar("_F", bound=Callable[..., Any])


class ObservationContext(Generic[_O]):
    """``with``-block form: the observation is current inside; errors mark it ERROR (K7).

    ``ObservationContext[LangfuseGeneration]`` yields a ``LangfuseGeneration`` from ``with ... as``.
    """

    __slots__ = (
        "_client",
        "_name",
        "_as_type",
        "_params",
        "_parent",
        "_trace_context",
        "_end_on_exit",
        "_obs",
        "_token",
    )

    def __init__(
        self,
        client: Langfuse,
        name: str,
        as_type: str,
        params: dict[str, Any],
        *,
        parent: LangfuseObservationWrapper | None = None,
        trace_context: dict[str, str] | None = None,
        end_on_exit: bool | None = None,
    ) -> None:
        as_type = observation_class(as_type).as_type  # an unknown type falls back to span (warned once)
        self._client, self._name, self._as_type, self._params = client, name, as_type, params
        self._parent, self._trace_context = parent, trace_context
        self._end_on_exit = end_on_exit is not False
        self._obs: LangfuseObservationWrapper | None = None
        self._token: Any = None

    def __enter__(self) -> _O:
        try:
            parent_ctx = parent_context(self._trace_context, self._parent)
        except Exception:
            logger.warning("langfuse_nb: invalid trace context %r; starting a new trace", self._trace_context)
            parent_ctx = None
        if parent_ctx is None:
            self._trace_context = None  # absent, or unusable (already warned about)
        obs = start_observation(
            self._client,
            name=self._name,
            as_type=self._as_type,
            params=self._params,
            parent=self._parent,
            trace_context=self._trace_context,
            ctx=parent_ctx,
        )
        self._obs = obs
        try:
            ctx = trace_api.set_span_in_context(obs._otel_span, parent_ctx)
            self._token = context_api.attach(ctx)
        except Exception:
            logger.warning("langfuse_nb: could not make the observation current", exc_info=True)
        return cast(_O, obs)

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        obs = self._obs
        if obs is None:
            return
        try:
            span = obs._otel_span
            if exc is not None and not isinstance(exc, GeneratorExit) and span.is_recording():
                span.record_exception(exc)
                span.set_status(Status(_ERROR, f"{type(exc).__name__}: {exc}"))
        except Exception:
            logger.debug("langfuse_nb: recording the exception failed", exc_info=True)
        finally:
            self._leave(obs)

    def _leave(self, obs: LangfuseObservationWrapper) -> None:
        if self._token is not None:
            try:
                context_api.detach(self._token)
            except Exception:
                logger.debug("langfuse_nb: detach failed", exc_info=True)
            self._token = None
        if self._end_on_exit:
            obs._otel_span.end()

    def __call__(self, fn: _F) -> _F:
        """Use as a decorator: every call of ``fn`` runs inside a fresh observation like this one."""
        make = functools.partial(
            ObservationContext,
            self._client,
            self._name,
            self._as_type,
            parent=self._parent,
            trace_context=self._trace_context,
            end_on_exit=self._end_on_exit,
        )
        if inspect.iscoroutinefunction(fn):

            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with make(dict(self._params)):
                    return await fn(*args, **kwargs)

            return cast(_F, functools.wraps(fn)(run_async))

        def run(*args: Any, **kwargs: Any) -> Any:
            with make(dict(self._params)):
                return fn(*args, **kwargs)

        return cast(_F, functools.wraps(fn)(run))

    async def __aenter__(self) -> _O:
        return self.__enter__()

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.__exit__(exc_type, exc, tb)
