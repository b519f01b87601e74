"""@observe: trace sync/async functions, methods and (async) generators as observations."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import AsyncGenerator, Callable, Generator, Iterable
from dataclasses import dataclass
from types import AsyncGeneratorType, GeneratorType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from opentelemetry import context as context_api
from opentelemetry import trace as trace_api

from langfuse_nb._settings import env_setting
from langfuse_nb.sdk import registry
from langfuse_nb.sdk.encode import encode_value, may_hold_media
from langfuse_nb.sdk.observations import OBSERVATION_CLASSES, parent_context, start_observation
from langfuse_nb.sdk.params import ObservationTypeLiteralNoEvent
from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes as A

if TYPE_CHECKING:
    from contextvars import Token

    from opentelemetry.context import Context

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger("langfuse_nb")
_SPECIAL = frozenset({"langfuse_trace_id", "langfuse_parent_observation_id", "langfuse_public_key"})


@dataclass(frozen=True)
class _Options:
    """Everything decided once, at decoration time."""

    name: str
    as_type: str
    capture_input: bool
    capture_output: bool
    transform: Callable[[Iterable[Any]], str] | None
    drop_first: bool  # methods: the first positional argument (self/cls) is not captured


@overload
def observe(func: F) -> F: ...
@overload
def observe(
    func: None = None,
    *,
    name: str | None = None,
    as_type: ObservationTypeLiteralNoEvent | None = None,
    capture_input: bool | None = None,
    capture_output: bool | None = None,
    transform_to_string: Callable[[Iterable[Any]], str] | None = None,
) -> Callable[[F], F]: ...
def observe(
    func: F | None = None,
    *,
    name: str | None = None,
    as_type: ObservationTypeLiteralNoEvent | None = None,
    capture_input: bool | None = None,
    capture_output: bool | None = None,
    transform_to_string: Callable[[Iterable[Any]], str] | None = None,
) -> F | Callable[[F], F]:
    """Trace every call of the decorated function as an observation (nested calls become children).

    Special keyword arguments (removed before the call): ``langfuse_trace_id``,
    ``langfuse_parent_observation_id`` and ``langfuse_public_key``.

    Example:
        @observe(as_type="generation")
        def answer(question: str) -> str: ...
    """

    def decorate(fn: F) -> F:
        if isinstance(fn, (classmethod, staticmethod)):
            # @observe above @classmethod/@staticmethod: trace the function, keep the descriptor
            return type(fn)(decorate(fn.__func__))  # type: ignore[return-value,arg-type]
        opts = _options(fn, name, as_type, capture_input, capture_output, transform_to_string)
        wrapper = _async_wrapper(fn, opts) if inspect.iscoroutinefunction(fn) else _sync_wrapper(fn, opts)
        return functools.wraps(fn)(wrapper)  # type: ignore[return-value]

    return decorate if func is None else decorate(func)


def _options(
    fn: Callable[..., Any],
    name: str | None,
    as_type: str | None,
    capture_input: bool | None,
    capture_output: bool | None,
    transform: Any,
) -> _Options:
    # read when decorating, as the reference does; parsed by the package's one rule (so "off" works)
    io_default = bool(env_setting("LANGFUSE_OBSERVE_DECORATOR_IO_CAPTURE_ENABLED"))
    if as_type is not None and (as_type not in OBSERVATION_CLASSES or as_type == "event"):
        logger.warning("langfuse_nb: invalid as_type %r for @observe; using 'span'", as_type)
        as_type = None
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        parameters = {}  # type: ignore[assignment]
    return _Options(
        name=name or str(getattr(fn, "__name__", "observation")),
        as_type=as_type or "span",
        capture_input=io_default if capture_input is None else capture_input,
        capture_output=io_default if capture_output is None else capture_output,
        transform=transform,
        drop_first="self" in parameters or "cls" in parameters,
    )


def _sync_wrapper(fn: Callable[..., Any], opts: _Options) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        special = _pop_special(kwargs) if kwargs and not _SPECIAL.isdisjoint(kwargs) else None
        call = _begin(opts, args, kwargs, special)
        if call is None:
            return fn(*args, **kwargs)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            call.fail(exc)
            raise
        return call.finish(result)

    return wrapper


def _async_wrapper(fn: Callable[..., Any], opts: _Options) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        special = _pop_special(kwargs) if kwargs and not _SPECIAL.isdisjoint(kwargs) else None
        call = _begin(opts, args, kwargs, special)
        if call is None:
            return await fn(*args, **kwargs)
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            call.fail(exc)
            raise
        return call.finish(result)

    return wrapper


def _pop_special(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {key: kwargs.pop(key) for key in _SPECIAL if key in kwargs}


def _begin(
    opts: _Options, args: tuple[Any, ...], kwargs: dict[str, Any], special: dict[str, Any] | None
) -> _Call | None:
    """Start the observation; None means "just call the function" (disabled or failed)."""
    public_key = special.get("langfuse_public_key") if special else None
    client = registry.get_client(public_key=public_key) if public_key else registry.get_client()
    if not client._enabled:
        return None  # F13: an unknown key only skips this call
    try:
        return _Call(client, opts, args, kwargs, special, public_key)
    except Exception:
        logger.warning("langfuse_nb: could not start observation %r", opts.name, exc_info=True)
        return None


class _Call:
    """One traced call: its observation, the attached context and how it finishes."""

    __slots__ = ("obs", "opts", "token", "key_token", "ctx")
    token: Token[Context] | None  # None once detached

    def __init__(
        self,
        client: Any,
        opts: _Options,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        special: dict[str, Any] | None,
        public_key: str | None,
    ) -> None:
        trace_context = None
        if special and special.get("langfuse_trace_id"):
            trace_context = {"trace_id": special["langfuse_trace_id"]}
            if special.get("langfuse_parent_observation_id"):
                trace_context["parent_span_id"] = special["langfuse_parent_observation_id"]
        params: dict[str, Any] = {}
        encoded = None
        if opts.capture_input:
            value = {"args": args[1:] if opts.drop_first else args, "kwargs": kwargs}
            if may_hold_media(value):
                params["input"] = value  # the general path: media needs the span's ids
            else:
                encoded = _encoded(client, value, A.OBSERVATION_INPUT)
        parent_ctx = parent_context(trace_context, None) if trace_context else None
        if parent_ctx is None:
            trace_context = None  # absent, or unusable (already warned about)
        self.obs = start_observation(
            client,
            name=opts.name,
            as_type=opts.as_type,
            params=params,
            trace_context=trace_context,
            ctx=parent_ctx,
            encoded=encoded,
        )
        self.opts = opts
        self.ctx = trace_api.set_span_in_context(self.obs._otel_span, parent_ctx)
        self.token = context_api.attach(self.ctx)
        self.key_token = registry.current_public_key.set(public_key) if public_key else None

    def finish(self, result: Any) -> Any:
        """Record the output and end, or hand a generator back wrapped (it ends when exhausted)."""
        try:
            self._detach()
            if isinstance(result, GeneratorType):
                return _traced_generator(result, self)
            if isinstance(result, AsyncGeneratorType):
                return _traced_async_generator(result, self)
            if type(result).__name__ == "StreamingResponse" and hasattr(result, "body_iterator"):
                result.body_iterator = _traced_async_generator(result.body_iterator, self)
                return result
            if self.opts.capture_output and result is not None:
                self._set_output(result)
        except Exception:
            logger.warning("langfuse_nb: could not finish observation %r", self.opts.name, exc_info=True)
        self._end()
        return result

    def _end(self) -> None:
        """End the span whatever happened before (an unended span is never exported)."""
        try:
            self.obs._otel_span.end()
        except Exception:
            logger.debug("langfuse_nb: could not end observation %r", self.opts.name, exc_info=True)

    def finish_stream(self, items: list[Any]) -> None:
        try:
            if self.opts.capture_output:
                self._set_output(_stream_output(items, self.opts.transform))
        except Exception:  # e.g. a transform_to_string that raises
            logger.warning("langfuse_nb: could not finish observation %r", self.opts.name, exc_info=True)
        self._end()

    def _set_output(self, value: Any) -> None:
        obs = self.obs
        span = obs._otel_span
        if not span.is_recording():
            return
        if may_hold_media(value):
            obs.update(output=value)
        else:
            encoded = _encoded(obs._langfuse_client, value, A.OBSERVATION_OUTPUT)
            if encoded:
                span.set_attributes(encoded)

    def fail(self, exc: BaseException) -> None:
        """K7: level ERROR and ``status_message=str(exc)`` (which also sets the OTel status); an
        exception without a message is described by its type's name, as the reference does."""
        try:
            self._detach()
            if isinstance(exc, Exception):
                self.obs.update(level="ERROR", status_message=str(exc) or type(exc).__name__)
        except Exception:  # str(exc) itself may raise
            logger.debug("langfuse_nb: could not record failure", exc_info=True)
        self._end()

    def _detach(self) -> None:
        if self.key_token is not None:
            registry.current_public_key.reset(self.key_token)
            self.key_token = None
        if self.token is not None:
            token, self.token = self.token, None
            try:
                context_api.detach(token)
            except Exception:
                logger.debug("langfuse_nb: detach failed", exc_info=True)


def _encoded(client: Any, value: Any, key: str) -> dict[str, Any] | None:
    """``{key: encoded value}`` for a value without media (masked first), None when it vanishes."""
    if client._mask is not None:
        value = client._mask_value(value)
    text = encode_value(value)
    return None if text is None else {key: text}


def _stream_output(items: list[Any], transform: Callable[[Iterable[Any]], str] | None) -> Any:
    if transform is not None:
        return transform(items)
    if all(isinstance(i, str) for i in items):
        return "".join(items)  # an empty stream records "" like the reference
    return items


def _traced_generator(gen: Generator[Any, Any, Any], call: _Call) -> Generator[Any, Any, Any]:
    """Each step runs with the observation current; the observation ends when the stream does."""
    items: list[Any] = []
    keep = call.opts.capture_output  # an uncaptured stream is not held in memory
    while True:
        token = context_api.attach(call.ctx)
        try:
            item = next(gen)
        except StopIteration:
            break
        except BaseException as exc:
            call.fail(exc)
            raise
        finally:
            context_api.detach(token)
        if keep:
            items.append(item)
        try:
            yield item
        except GeneratorExit:
            call.finish_stream(items)  # consumer stopped early: keep what was produced
            gen.close()
            raise
    call.finish_stream(items)


async def _traced_async_generator(gen: AsyncGenerator[Any, Any], call: _Call) -> AsyncGenerator[Any, Any]:
    items: list[Any] = []
    keep = call.opts.capture_output
    while True:
        token = context_api.attach(call.ctx)
        try:
            item = await gen.__anext__()
        except StopAsyncIteration:
            break
        except BaseException as exc:
            call.fail(exc)
            raise
        finally:
            context_api.detach(token)
        if keep:
            items.append(item)
        try:
            yield item
        except GeneratorExit:
            call.finish_stream(items)
            await gen.aclose()
            raise
    call.finish_stream(items)
