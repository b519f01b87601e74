"""Requests with the standard library's ``http.client``, for the SDK's first and local requests.

httpx (with httpcore, and the ``trio``/``anyio`` httpcore imports when installed) costs ~0.2-0.3 s of CPU
to import and build a client in a fresh process, and ~0.7 ms per 512-span request where ``http.client``
costs ~0.25 ms. The span exporter and the score channel of a plain-``http`` endpoint (the local server)
post through here, and so does the first GET of a client (``get_prompt``, the project id of trace links)
until it has built its REST client; `usable` keeps this path to where it goes where httpx would send.

Connections are kept alive in one small pool per process (emptied after ``fork``). A kept-alive
connection that the server has closed meanwhile is replaced and the request sent once more on a fresh
one, as httpx's pool does (a resent span batch carries the same ids, which the server stores once).

``http.client`` (with ``ssl`` and ``email``, ~10 ms) is imported with this module, that is when a client
builds its exporter, as the reference imports httpx with its client: deferred to the first request, it
fell on a user's first ``get_prompt``; imported inside the client's constructor instead, the next
``Langfuse(...)`` of the process measured ~15 us slower (29 -> 45 us), for reasons not pinned down.
"""

from __future__ import annotations

import http.client
import os
import sys
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ssl

_MAX_IDLE = 4  # idle connections kept per server
# what a kept-alive connection the server has closed raises on its next request (http.client's
# RemoteDisconnected is a ConnectionResetError)
_STALE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class ConnectFailed(OSError):
    """The connection could not be made (the request never left); ``__cause__`` says why."""


def usable(url: str, *, https: bool = False) -> bool:
    """True when a request to ``url`` over this path goes where httpx would send it.

    ``https`` URLs only for a caller that passes a verifying context (``tls``) as trusting as httpx's.
    """
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    schemes = ("http", "https") if https else ("http",)
    return scheme in schemes and bool(parts.hostname) and parts.username is None and not _proxied(scheme)


def _proxied(scheme: str) -> bool:
    """Whether httpx (``trust_env``) would send requests of ``scheme`` through a proxy."""
    if sys.platform in ("darwin", "win32"):  # proxies may come from the system settings there
        import urllib.request

        return any(key in (scheme, "all") for key in urllib.request.getproxies())
    names = (f"{scheme}_proxy", "all_proxy")
    return any(key.lower() in names and value for key, value in os.environ.items())


class Response:
    """Status, headers (case-insensitive, as ``Retry-After`` parsing expects) and body of an answer."""

    __slots__ = ("body", "headers", "status_code")

    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status_code = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def request(
    base_url: str,
    method: str,
    target: str,
    headers: Mapping[str, str],
    *,
    body: bytes | None = None,
    timeout: float | None,
    tls: Callable[[], ssl.SSLContext] | None = None,
    pool: Pool | None = None,
) -> Response:
    """One request to ``base_url``'s server for ``target`` (path and query), on a pooled connection.

    Raises `ConnectFailed` when no connection could be made, else what ``http.client`` raises (``OSError``,
    ``TimeoutError``, ``http.client.HTTPException``). ``tls`` gives the context of an ``https`` server;
    ``pool`` holds the kept-alive connections (default: the process's shared one).
    """
    key, pool = _key(base_url), pool or _SHARED
    while True:
        conn, reused = pool.take(key), True
        if conn is None:
            conn, reused = _open(key, timeout, tls), False
        try:
            conn.timeout = timeout
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
            conn.request(method, target, body=body, headers=dict(headers))
            answer = conn.getresponse()
            data = answer.read()
        except _STALE:
            conn.close()
            if reused:
                continue  # the server closed the idle connection: once more on a fresh one
            raise
        except BaseException:
            conn.close()
            raise
        pool.give_back(key, conn, keep=not answer.will_close)
        return Response(answer.status, answer.headers, data)


def is_transport_failure(exc: BaseException) -> bool:
    """A failure of this transport that may not have reached the server (worth a retry)."""
    return isinstance(exc, OSError | TimeoutError | http.client.HTTPException)


def _key(base_url: str) -> tuple[str, str, int]:
    parts = urllib.parse.urlsplit(base_url)
    https = parts.scheme.lower() == "https"
    return ("https" if https else "http", parts.hostname or "localhost", parts.port or (443 if https else 80))


def _open(
    key: tuple[str, str, int], timeout: float | None, tls: Callable[[], ssl.SSLContext] | None
) -> http.client.HTTPConnection:
    scheme, host, port = key
    conn: http.client.HTTPConnection
    if scheme == "https":
        context = tls() if tls is not None else None
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.connect()
    except OSError as exc:
        conn.close()
        raise ConnectFailed(str(exc) or type(exc).__name__) from exc
    return conn


class Pool:
    """Idle kept-alive connections per (scheme, host, port)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._pid = os.getpid()

    def take(self, key: tuple[str, str, int]) -> http.client.HTTPConnection | None:
        with self._lock:
            if self._pid != os.getpid():  # after fork the parent's sockets are not ours to use
                self._idle, self._pid = {}, os.getpid()
            idle = self._idle.get(key)
            return idle.pop() if idle else None

    def give_back(self, key: tuple[str, str, int], conn: http.client.HTTPConnection, *, keep: bool) -> None:
        if keep:
            with self._lock:
                idle = self._idle.setdefault(key, [])
                if len(idle) < _MAX_IDLE and self._pid == os.getpid():
                    idle.append(conn)
                    return
        conn.close()

    def close(self, key: tuple[str, str, int]) -> None:
        with self._lock:
            idle = self._idle.pop(key, [])
        for conn in idle:
            conn.close()


_SHARED = Pool()


class PlainPoster:
    """POSTs to one endpoint (the span exporter's and the score channel's transport), on connections of its
    own: closing it (a client's shutdown) closes them, whoever else talks to the same server."""

    def __init__(self, endpoint: str, timeout: float) -> None:
        parts = urllib.parse.urlsplit(endpoint)
        self._base = f"{parts.scheme}://{parts.netloc}"
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._timeout = timeout
        self._pool = Pool()

    def post(self, body: bytes, headers: Mapping[str, str]) -> Response:
        """POST ``body``; transport failures raise (see `request`)."""
        return request(
            self._base, "POST", self._target, headers, body=body, timeout=self._timeout, pool=self._pool
        )

    def close(self) -> None:
        self._pool.close(_key(self._base))


__all__ = ["ConnectFailed", "PlainPoster", "Pool", "Response", "is_transport_failure", "request", "usable"]
