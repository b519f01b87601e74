"""POST of OTLP bodies with the standard library, for plain-http endpoints without a proxy.

The span exporter's first request used to import httpx and httpcore (~90 ms) and build an httpx client,
which reads the CA bundle even for a plain-http endpoint (~40 ms): the first flush of a process paid
that, on the thread the user's cell shares the GIL with. ``http.client`` costs ~35 ms to import and
~0.25 ms of CPU per 512-span request where httpx costs ~0.7 ms.

It is used only where it behaves like httpx would (`usable`): ``http://`` endpoints, no credentials in
the URL and no proxy in the environment. Connections are kept alive; a kept-alive connection that the
server closed meanwhile is replaced and the request sent once more on a fresh one (as httpx's pool
does; a resent batch carries the same span ids, which the server stores once).
"""

from __future__ import annotations

import os
import sys
import threading
import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import http.client

_PROXY_VARIABLES = frozenset({"http_proxy", "all_proxy"})
# what a kept-alive connection the server has closed raises on its next request (http.client's
# RemoteDisconnected is a ConnectionResetError)
_STALE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


def usable(endpoint: str) -> bool:
    """True when a POST to ``endpoint`` over this path goes where httpx would send it."""
    url = urllib.parse.urlsplit(endpoint)
    return url.scheme.lower() == "http" and bool(url.hostname) and url.username is None and not _proxied()


def _proxied() -> bool:
    """Whether httpx (``trust_env``) would send plain-http requests through a proxy."""
    if sys.platform in ("darwin", "win32"):  # proxies may come from the system settings there
        import urllib.request

        return any(key in ("http", "all") for key in urllib.request.getproxies())
    return any(key.lower() in _PROXY_VARIABLES and value for key, value in os.environ.items())


class Response:
    """What the exporter reads of an answer."""

    __slots__ = ("headers", "status_code", "text")

    def __init__(self, status: int, headers: Mapping[str, str] | Any, body: bytes) -> None:
        self.status_code = status
        self.headers = headers  # case-insensitive (http.client's message), as Retry-After parsing expects
        self.text = body.decode("utf-8", "replace")


class PlainPoster:
    """One kept-alive connection to the endpoint's server; requests are serialised (one sender thread)."""

    def __init__(self, endpoint: str, timeout: float) -> None:
        url = urllib.parse.urlsplit(endpoint)
        self._host, self._port = url.hostname or "localhost", url.port or 80
        self._target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._used = False  # the connection has answered a request: the server may since have closed it
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def post(self, body: bytes, headers: Mapping[str, str]) -> Response:
        """POST ``body``; transport failures raise (OSError, TimeoutError, http.client.HTTPException)."""
        with self._lock:
            if self._pid != os.getpid():  # a forked child must not share the parent's socket
                self._conn, self._used, self._pid = None, False, os.getpid()
            reused = self._conn is not None and self._used
            try:
                return self._send(body, headers)
            except _STALE:
                if not reused:
                    raise
                self.close()  # the server closed the idle connection: once more on a fresh one
                return self._send(body, headers)

    def _send(self, body: bytes, headers: Mapping[str, str]) -> Response:
        import http.client

        if self._conn is None:
            self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            self._used = False
        conn = self._conn
        try:
            conn.request("POST", self._target, body=body, headers=dict(headers))
            answer = conn.getresponse()
            data = answer.read()
        except BaseException:
            self.close()
            raise
        self._used = True
        if answer.will_close:
            self.close()
        return Response(answer.status, answer.headers, data)

    def close(self) -> None:
        conn, self._conn, self._used = self._conn, None, False
        if conn is not None:
            conn.close()


def is_transport_failure(exc: BaseException) -> bool:
    """A failure of this transport that may not have reached the server (worth a retry)."""
    if isinstance(exc, (OSError, TimeoutError)):
        return True
    client = sys.modules.get("http.client")
    return client is not None and isinstance(exc, client.HTTPException)


__all__ = ["PlainPoster", "Response", "is_transport_failure", "usable"]
