"""The one place that sends REST requests: auth, headers, timeout, retries, status -> error table.

`HttpCore` turns a `Request` into httpx arguments and a response into a value or an error (pure);
`SyncExecutor` and `AsyncExecutor` are the two tiny loops that do the I/O and the waiting.
"""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from langfuse_nb._retry import (
    RetryPolicy,
    RetryState,
    retry_after,
    retryable_status,
    starting,
    wait_for_startup,
)
from langfuse_nb.errors import ApiError, error_for_status

from ._spec import OMIT, Request, RequestOptions, parse, query_params, to_jsonable
from .headers import merge_headers

# The REST client's retries follow the SDK's one policy (langfuse_nb/_retry.py); like the Fern client the
# reference ships (wire-protocol.md §1.6), 409 is retried too and the count comes from ``max_retries``.
RETRY_STATUSES = frozenset({408, 409, 429})
INITIAL_DELAY = 0.5
MAX_DELAY = 10.0
MAX_HEADER_DELAY = 30.0


def rest_policy(retries: int) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=retries + 1, initial_delay=INITIAL_DELAY, max_delay=MAX_DELAY, max_hint=MAX_HEADER_DELAY
    )


def should_retry_status(status_code: int) -> bool:
    return retryable_status(status_code, RETRY_STATUSES)


def retry_delay(attempt: int, response: httpx.Response | None) -> float:
    """Wait before retry number ``attempt`` (0-based): the server's hint if <= 30 s, else backoff + jitter."""
    hinted = retry_after(response.headers) if response is not None else None
    return rest_policy(attempt + 1).delay(attempt, hinted)


class HttpCore:
    """Client-wide settings and the pure request/response translation."""

    def __init__(
        self,
        *,
        base_url: str,
        headers: dict[str, str],
        timeout: float | None,
        max_retries: int = 0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = headers
        self.timeout = timeout
        self.max_retries = max_retries

    def max_retries_for(self, request: Request[Any]) -> int:
        return int((request.options or {}).get("max_retries", self.max_retries) or 0)

    def httpx_args(self, request: Request[Any]) -> dict[str, Any]:
        """Keyword arguments for ``httpx.Client.request``."""
        options: RequestOptions = request.options or {}
        query = {**request.query, **(options.get("additional_query_parameters") or {})}
        args: dict[str, Any] = {
            "method": request.method,
            "url": f"{self.base_url}/{request.path}",
            "params": query_params(query),
            "headers": merge_headers(self.headers, _str_values(options.get("additional_headers"))),
            "timeout": self._timeout(options),
        }
        body = _body(request.body, options)
        if body is not OMIT:
            args["json"] = body
        return args

    def _timeout(self, options: RequestOptions) -> Any:
        timeout = options.get("timeout_in_seconds")
        if timeout is None:
            timeout = self.timeout
        return httpx.USE_CLIENT_DEFAULT if timeout is None else timeout

    def result(self, request: Request[Any], response: httpx.Response) -> Any:
        """The parsed 2xx body, or raise the `ApiError` subclass the status maps to."""
        if response.is_success and request.response is None:
            return None  # endpoints without a response model ignore the body (often 204)
        try:
            data = response.json()  # an empty body is not JSON either: a plain ApiError, like upstream
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ApiError(status_code=response.status_code, body=response.text) from None
        if not response.is_success:
            raise error_for_status(response.status_code, data)
        return parse(request.response, data)


def _str_values(headers: dict[str, Any] | None) -> dict[str, str] | None:
    return None if headers is None else {k: str(v) for k, v in headers.items() if v is not None}


def _body(body: Any, options: RequestOptions) -> Any:
    extra = options.get("additional_body_parameters")
    body = body if body is OMIT else to_jsonable(body)
    if not extra:
        return body
    if body is OMIT:
        return to_jsonable(extra)
    return {**body, **to_jsonable(extra)} if isinstance(body, dict) else body


class SyncExecutor:
    """Sends requests with an `httpx.Client`, retrying per the policy above."""

    def __init__(self, core: HttpCore, client: httpx.Client, sleep: Callable[[float], None] = time.sleep):
        self.core, self.client, self.sleep = core, client, sleep

    def send(self, request: Request[Any]) -> Any:
        state = rest_policy(self.core.max_retries_for(request)).start()
        while True:
            try:
                response = self.client.request(**self.core.httpx_args(request))
            except httpx.TransportError as exc:
                if _launching(exc, self.core) and wait_for_startup(self.core.base_url):
                    continue  # the local server %load_ext launched now answers
                delay = state.next_delay()
                if delay is None:
                    raise
                self.sleep(delay)
                continue
            delay = _retry_wait(state, response)
            if delay is None:
                return self.core.result(request, response)
            self.sleep(delay)


def _launching(error: httpx.TransportError, core: HttpCore) -> bool:
    """Nothing listens at a base URL whose server is being launched (see `_retry.expect_startup`)."""
    return isinstance(error, httpx.ConnectError) and starting(core.base_url)


def _retry_wait(state: RetryState, response: httpx.Response) -> float | None:
    """The wait before retrying ``response``, or None when it is final (success, 4xx, budget spent)."""
    if not should_retry_status(response.status_code):
        return None
    return state.next_delay(retry_after(response.headers))


class AsyncExecutor:
    """Sends requests with an `httpx.AsyncClient`; same policy as `SyncExecutor`.

    Without a caller-supplied client, one client is made per event loop: pooled connections are bound to
    the loop that opened them, and notebook/experiment code may run several loops in turn.
    """

    def __init__(
        self,
        core: HttpCore,
        client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self.core, self.client, self.sleep = core, client, sleep
        self._per_loop: weakref.WeakKeyDictionary[Any, httpx.AsyncClient] = weakref.WeakKeyDictionary()

    def http_client(self) -> httpx.AsyncClient:
        if self.client is not None:
            return self.client
        loop = asyncio.get_running_loop()
        client = self._per_loop.get(loop)
        if client is None:
            client = self._per_loop[loop] = httpx.AsyncClient(follow_redirects=True)
        return client

    async def aclose(self) -> None:
        """Close the clients this executor created (those of the running loop; others died with theirs)."""
        loop = asyncio.get_running_loop()
        client = self._per_loop.pop(loop, None)
        if client is not None:
            await client.aclose()

    async def send(self, request: Request[Any]) -> Any:
        state = rest_policy(self.core.max_retries_for(request)).start()
        client = self.http_client()
        while True:
            try:
                response = await client.request(**self.core.httpx_args(request))
            except httpx.TransportError as exc:
                if _launching(exc, self.core):  # the wait blocks: keep it off the event loop
                    loop = asyncio.get_running_loop()
                    if await loop.run_in_executor(None, wait_for_startup, self.core.base_url):
                        continue
                delay = state.next_delay()
                if delay is None:
                    raise
                await self.sleep(delay)
                continue
            delay = _retry_wait(state, response)
            if delay is None:
                return self.core.result(request, response)
            await self.sleep(delay)


__all__ = [
    "AsyncExecutor",
    "HttpCore",
    "SyncExecutor",
    "retry_after",
    "rest_policy",
    "retry_delay",
    "should_retry_status",
]
