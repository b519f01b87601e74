"""The one place that sends REST requests: auth, headers, timeout, retries, status -> error table.

`HttpCore` turns a `Request` into httpx arguments and a response into a value or an error (pure);
`SyncExecutor` and `AsyncExecutor` are the two tiny loops that do the I/O and the waiting.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson

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
            data = decode_json(response.content)  # an empty body is not JSON: a plain ApiError, like upstream
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ApiError(status_code=response.status_code, body=response.text) from None
        if not response.is_success:
            raise error_for_status(response.status_code, data)
        if request.response is RAW_JSON:
            return data
        return parse(request.response, data)


class _RawJson:
    """Response marker: answer with the decoded JSON itself, not validated into a model."""

    def __repr__(self) -> str:
        return "RAW_JSON"


RAW_JSON: Any = _RawJson()


def raw_json(request: Request[Any]) -> Request[Any]:
    """The same request (path, options, retries, errors), answered with the decoded JSON as is."""
    return dataclasses.replace(request, response=RAW_JSON)


def send_raw(resource: Any, method: str, *args: Any, **kwargs: Any) -> Any:
    """Call endpoint ``method`` of an ``api.<resource>`` client, returning its JSON without a model.

    For readers that only draw a few fields of a big answer (the notebook's trace view): validating a
    1,000-observation trace into models costs more than fetching it. A coroutine for an async resource.
    """
    request = getattr(type(resource), method).request(resource, *args, **kwargs)
    return resource._executor.send(raw_json(request))


# JSON bodies are parsed by orjson (3-4x faster on big answers) wherever it gives exactly the objects and
# errors of ``json.loads(bytes)``, as httpx's ``response.json()`` did. orjson differs in a few cases:
# integers beyond 64 bits become floats (so a body with a number token of 19+ digits goes to the standard
# library), and NaN/Infinity/1e400, lone surrogates, non-UTF-8 encodings and a UTF-8 BOM are errors in
# orjson (so any orjson error re-parses with the standard library, which gives its value or its error).
# An integer token is "-"? and digits after ":", ",", "[" or whitespace; in this byte view all of those
# (and "-") are ":" and digits are "0", so ":" + 19 "0" marks a possibly long integer (a run of digits in a
# string only costs speed: such a body takes the standard library's path).
_NUMBER_VIEW = bytes(
    0x30 if chr(b) in "0123456789" else 0x3A if chr(b) in ":,[- \t\n\r" else 0x2E for b in range(256)
)
_LONG_INT = b":" + b"0" * 19


def decode_json(content: bytes) -> Any:
    """``json.loads(content)``: the same value or the same exception, faster."""
    if _may_hold_long_int(content):
        return json.loads(content)
    try:
        return orjson.loads(content)
    except Exception:  # noqa: BLE001 - whatever orjson refuses, the standard library decides as before
        return json.loads(content)


def _may_hold_long_int(content: bytes) -> bool:
    view = content.translate(_NUMBER_VIEW)
    return _LONG_INT in view or view.startswith(_LONG_INT[1:])


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
    "RAW_JSON",
    "AsyncExecutor",
    "HttpCore",
    "decode_json",
    "raw_json",
    "SyncExecutor",
    "retry_after",
    "rest_policy",
    "retry_delay",
    "send_raw",
    "should_retry_status",
]
