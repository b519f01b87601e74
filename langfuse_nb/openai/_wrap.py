"""Wrapping the OpenAI SDK's resource methods: one observation per call, streams finished when consumed."""

from __future__ import annotations

import contextlib
import functools
import importlib
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from langfuse_nb.openai._extract import (
    Endpoint,
    call_input,
    model_parameters,
    response_fields,
    split_kwargs,
    stream_fields,
)

logger = logging.getLogger("langfuse_nb.openai")
_MARK = "__langfuse_nb_wrapped__"
_RES = "openai.resources"
ENDPOINTS = tuple(
    Endpoint(module, cls, method, kind)
    for module, classes, methods, kind in (
        (f"{_RES}.chat.completions", ("Completions", "AsyncCompletions"), ("create", "parse"), "chat"),
        (f"{_RES}.beta.chat.completions", ("Completions", "AsyncCompletions"), ("parse",), "chat"),
        (f"{_RES}.completions", ("Completions", "AsyncCompletions"), ("create",), "completion"),
        (f"{_RES}.embeddings", ("Embeddings", "AsyncEmbeddings"), ("create",), "embedding"),
        (f"{_RES}.responses", ("Responses", "AsyncResponses"), ("create", "parse"), "responses"),
    )
    for cls in classes
    for method in methods
)


def install() -> int:
    """Wrap every OpenAI method this SDK version has (idempotent); return how many are wrapped."""
    count = 0
    for endpoint in ENDPOINTS:
        try:
            cls = getattr(importlib.import_module(endpoint.module), endpoint.cls)
        except (ImportError, AttributeError):  # not in this openai version
            continue
        original = cls.__dict__.get(endpoint.method)
        if original is None:
            continue
        if not getattr(original, _MARK, False):
            make = _async_wrapper if endpoint.cls.startswith("Async") else _sync_wrapper
            wrapper = make(endpoint, original)
            setattr(wrapper, _MARK, True)
            setattr(cls, endpoint.method, wrapper)
        count += 1
    return count


def _bound(original: Any, instance: Any) -> Callable[..., Any]:
    """``original`` bound to ``instance`` through the descriptor protocol, so a method another
    instrumentation wrapped first (wrapt's function wrappers, e.g. the reference's own drop-in) is called
    as that wrapper expects, not as a plain function."""
    return original.__get__(instance, type(instance))  # type: ignore[no-any-return]


def _sync_wrapper(endpoint: Endpoint, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def traced(self: Any, *args: Any, **kwargs: Any) -> Any:
        ours, kwargs = split_kwargs(kwargs)
        observation = _start(endpoint, ours, kwargs)
        try:
            response = _bound(original, self)(*args, **kwargs)
        except BaseException as exc:
            _fail(observation, kwargs, exc)
            raise
        return _finish(endpoint, observation, response)

    return traced


def _async_wrapper(endpoint: Endpoint, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    async def traced(self: Any, *args: Any, **kwargs: Any) -> Any:
        ours, kwargs = split_kwargs(kwargs)
        observation = _start(endpoint, ours, kwargs)
        try:
            response = await _bound(original, self)(*args, **kwargs)
        except BaseException as exc:
            _fail(observation, kwargs, exc)
            raise
        return _finish(endpoint, observation, response)

    return traced


# ---- the observation ---------------------------------------------------------------------------------------


def _start(endpoint: Endpoint, ours: dict[str, Any], kwargs: dict[str, Any]) -> Any:
    """Start the generation (or embedding) observation; None if tracing itself fails."""
    try:
        from langfuse_nb.sdk.registry import get_client

        client = get_client(public_key=ours.get("langfuse_public_key"))
        start: Any = client.start_observation  # the kind (generation/embedding) is chosen at run time
        observation = start(
            as_type=endpoint.as_type,
            name=ours.get("name") or endpoint.default_name,
            input=call_input(endpoint, kwargs),
            metadata=ours.get("metadata"),
            model=kwargs.get("model") or None,
            model_parameters=model_parameters(endpoint, kwargs),
            prompt=ours.get("langfuse_prompt"),
            trace_context=_trace_context(ours),
        )
        trace = {key: ours[key] for key in ("user_id", "session_id", "tags") if ours.get(key) is not None}
        if trace:
            observation.update_trace(**trace)
        return observation
    except Exception:  # noqa: BLE001 - tracing must never break the user's OpenAI call
        logger.warning("langfuse_nb.openai: could not start the observation", exc_info=True)
        return None


def _trace_context(ours: dict[str, Any]) -> dict[str, str] | None:
    if not ours.get("trace_id"):
        return None
    context = {"trace_id": ours["trace_id"]}
    if ours.get("parent_observation_id"):
        context["parent_span_id"] = ours["parent_observation_id"]
    return context


def _fail(observation: Any, kwargs: dict[str, Any], exc: BaseException) -> None:
    if observation is None:
        return
    with _guard("record the error"):
        observation.update(
            level="ERROR",
            status_message=str(exc) or type(exc).__name__,
            model=kwargs.get("model") or None,
            cost_details={"input": 0, "output": 0, "total": 0},
        ).end()


def _finish(endpoint: Endpoint, observation: Any, response: Any) -> Any:
    if observation is None:
        return response
    kind = type(response).__name__
    if kind == "Stream":
        return TracedStream(response, endpoint, observation)
    if kind == "AsyncStream":
        return TracedAsyncStream(response, endpoint, observation)
    with _guard("record the response"):
        observation.update(**_present(response_fields(endpoint, response))).end()
    return response


def _present(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


@contextlib.contextmanager
def _guard(what: str) -> Any:
    try:
        yield
    except Exception:  # noqa: BLE001 - the telemetry boundary: log once, never raise into the caller
        logger.warning("langfuse_nb.openai: could not %s", what, exc_info=True)


# ---- streams -----------------------------------------------------------------------------------------------


class _Recorder:
    """What both stream proxies share: chunks seen, first-token time, finishing once."""

    def __init__(self, stream: Any, endpoint: Endpoint, observation: Any) -> None:
        self._stream = stream
        self._endpoint = endpoint
        self._observation = observation
        self._chunks: list[Any] = []
        self._first_token: datetime | None = None
        self._done = False

    def _record(self, chunk: Any) -> Any:
        if self._first_token is None:
            self._first_token = datetime.now(timezone.utc)
        self._chunks.append(chunk)
        return chunk

    def _finish(self, error: BaseException | None = None) -> None:
        if self._done:
            return
        self._done = True
        with _guard("record the stream"):
            fields = _present(stream_fields(self._endpoint, self._chunks))
            if self._first_token is not None:
                fields["completion_start_time"] = self._first_token
            if error is not None:
                fields.update(level="ERROR", status_message=str(error) or type(error).__name__)
            self._observation.update(**fields).end()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def __del__(self) -> None:  # a stream dropped half-read still ends its observation
        with contextlib.suppress(Exception):
            self._finish()


class TracedStream(_Recorder):
    """An OpenAI ``Stream`` that records its chunks; usage comes from the final chunk."""

    def __iter__(self) -> TracedStream:
        return self

    def __next__(self) -> Any:
        try:
            return self._record(next(self._stream))
        except StopIteration:
            self._finish()
            raise
        except BaseException as exc:
            self._finish(exc)
            raise

    def __enter__(self) -> TracedStream:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._finish()
        self._stream.__exit__(*exc_info)

    def close(self) -> None:
        self._finish()
        self._stream.close()


class TracedAsyncStream(_Recorder):
    """The asyncio twin of `TracedStream`."""

    def __aiter__(self) -> TracedAsyncStream:
        return self

    async def __anext__(self) -> Any:
        try:
            return self._record(await self._stream.__anext__())
        except StopAsyncIteration:
            self._finish()
            raise
        except BaseException as exc:
            self._finish(exc)
            raise

    async def __aenter__(self) -> TracedAsyncStream:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self._finish()
        await self._stream.__aexit__(*exc_info)

    async def close(self) -> None:
        self._finish()
        await self._stream.close()
