"""How an observation starts: the type registry, the OpenTelemetry parent context, the attributes set at
creation, and ``ObservationContext`` (the ``with``-block and decorator form).

The observation classes are in ``observations.py``, which imports this module and re-exports its names;
they register in ``OBSERVATION_CLASSES`` when defined, so nothing here needs them at import time.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from opentelemetry import context as context_api
from opentelemetry import trace as trace_api
from opentelemetry.trace import NonRecordingSpan, SpanContext, Status, StatusCode, TraceFlags

from langfuse_nb.sdk.encode import GENERATION_LIKE, encode_observation, may_hold_media
from langfuse_nb.sdk.ids import create_observation_id, normalize_span_id, normalize_trace_id
from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A

if TYPE_CHECKING:
    from langfuse_nb.sdk.client import Langfuse
    from langfuse_nb.sdk.observations import LangfuseObservationWrapper

logger = logging.getLogger("langfuse_nb")
# as_type -> class; filled by LangfuseObservationWrapper.__init_subclass__, "span" set last to LangfuseSpan
OBSERVATION_CLASSES: dict[str, type[LangfuseObservationWrapper]] = {}
_ERROR = StatusCode.ERROR


def _set_error_status(span: Any, params: Mapping[str, Any]) -> None:
    if params.get("level") == "ERROR":
        span.set_status(Status(_ERROR, params.get("status_message")))


def observation_class(as_type: str) -> type[LangfuseObservationWrapper]:
    """The wrapper class of ``as_type``; an unknown type falls back to a span, as in the reference."""
    cls = OBSERVATION_CLASSES.get(as_type)
    if cls is None:
        logger.warning("langfuse_nb: Unknown observation type: %s, falling back to span", as_type)
        return OBSERVATION_CLASSES["span"]
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


_O = TypeVar("_O", bound="LangfuseObservationWrapper", covariant=True)
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
