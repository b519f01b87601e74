"""Resources written once for both clients.

A resource is a class of ``@endpoint`` methods that only *describe* a request. Reading such a method from a
`SyncResource` gives a function that sends it and returns the parsed value; from an `AsyncResource`, a
coroutine function doing the same. Signatures (for help() and IDEs) are the builder's, returning the
response type instead of the `Request`.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Awaitable, Callable
from types import MethodType
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from ._spec import Request

if TYPE_CHECKING:
    from ._http import AsyncExecutor, SyncExecutor

P = ParamSpec("P")
T = TypeVar("T")


class SyncResource:
    """Base of the blocking resource clients (``api.trace``, ...)."""

    def __init__(self, executor: SyncExecutor) -> None:
        self._executor = executor


class AsyncResource:
    """Base of the asyncio resource clients (``async_api.trace``, ...)."""

    def __init__(self, executor: AsyncExecutor) -> None:
        self._executor = executor


class endpoint(Generic[P, T]):  # noqa: N801 - used as a decorator, like property
    """Decorates a request builder ``def m(self, ...) -> Request[X]``; see the module docstring."""

    def __init__(self, build: Callable[Concatenate[Any, P], Request[T]]) -> None:
        self._build = build
        self._sync = _sync_caller(build)
        self._async = _async_caller(build)

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> endpoint[P, T]: ...
    @overload
    def __get__(self, obj: AsyncResource, owner: type | None = None) -> Callable[P, Awaitable[T]]: ...
    @overload
    def __get__(self, obj: SyncResource, owner: type | None = None) -> Callable[P, T]: ...
    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return MethodType(self._async if isinstance(obj, AsyncResource) else self._sync, obj)

    def request(self, resource: Any, *args: Any, **kwargs: Any) -> Request[T]:
        """Build the request without sending it (for tests and debugging)."""
        return self._build(resource, *args, **kwargs)


def _sync_caller(build: Callable[..., Request[Any]]) -> Callable[..., Any]:
    @functools.wraps(build)
    def call(resource: SyncResource, *args: Any, **kwargs: Any) -> Any:
        return resource._executor.send(build(resource, *args, **kwargs))

    return _with_result_signature(call, build)


def _async_caller(build: Callable[..., Request[Any]]) -> Callable[..., Any]:
    @functools.wraps(build)
    async def call(resource: AsyncResource, *args: Any, **kwargs: Any) -> Any:
        return await resource._executor.send(build(resource, *args, **kwargs))

    return _with_result_signature(call, build)


def _with_result_signature(call: Callable[..., Any], build: Callable[..., Any]) -> Callable[..., Any]:
    """Show ``-> X`` instead of ``-> Request[X]`` in the caller's signature."""
    signature = inspect.signature(build)
    returned = signature.return_annotation
    if isinstance(returned, str) and returned.startswith("Request[") and returned.endswith("]"):
        returned = returned[len("Request[") : -1]
    call.__signature__ = signature.replace(return_annotation=returned)  # type: ignore[attr-defined]
    return call


def send_json(resource: SyncResource | AsyncResource, method: str, /, *args: Any, **kwargs: Any) -> Any:
    """Send ``resource.method(*args, **kwargs)`` and return the decoded JSON without building models.

    For bulk reads (DataFrames of thousands of rows) where model validation would cost more than the
    request. From an `AsyncResource` the result is awaitable.
    """
    described: Request[Any] = getattr(type(resource), method).request(resource, *args, **kwargs)
    if described.response is not None:  # endpoints without a response model (204) stay body-less
        described = dataclasses.replace(described, response=Any)
    return resource._executor.send(described)


__all__ = ["AsyncResource", "SyncResource", "endpoint", "send_json"]
