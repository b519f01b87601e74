"""A JSON GET over a plain socket (HTTP/1.1), for the first REST call of a process.

The full REST client (`LangfuseAPI`) sends with httpx and answers with pydantic models; importing those
costs ~0.4 s of CPU in a fresh process (httpx, httpcore and the ``trio`` it imports when installed,
pydantic, the models). ``get_prompt`` needs one GET and the decoded JSON; ``socket``, ``ssl`` and ``json``
are loaded by then, so this path makes the first prompt fetch cost about what the request costs. Even
``http.client`` is not used: importing it (with the ``email`` package) costs more than the request.

It is used only where it behaves like the full client:

- no ``httpx_client`` of the caller (its transport, proxies and hooks are the caller's choice), no proxy
  in the environment (httpx would honour one), no credentials in the URL: `usable` says so;
- TLS verifies like httpx's default (`_tls.LazyTrustContext`: ``SSL_CERT_FILE``, ``SSL_CERT_DIR``, else
  certifi; host names checked);
- the timeout applies to connecting and to each read, as httpx's does;
- a redirect is not followed here: `NeedsFullClient` tells the caller to send with the full client;
- failures raise what the full client raises: the `ApiError` subclass of the status, and for transport
  failures the httpx exception httpx would have raised (httpx is imported only then);
- retries stay with the caller (the SDK's one policy, `_retry`); a refused connection to a local server
  that is being launched waits for it once, as the full client does.

Responses are read per HTTP/1.1 (``Content-Length``, chunked, or until the server closes); connections
are kept alive and reused (a small pool per process, emptied after ``fork``).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any, BinaryIO

from langfuse_nb._retry import wait_for_startup
from langfuse_nb.errors import ApiError, error_for_status

from ._url import PROMPT_PATH, path

DEFAULT_TIMEOUT = 5.0  # httpx's default, which the full client falls back to without a timeout
USER_AGENT = "langfuse-nb"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy"})
_MAX_IDLE = 4  # idle connections kept per server
_MAX_LINE = 65536  # longest status or header line accepted
_MAX_HEADERS = 200


class NeedsFullClient(Exception):  # noqa: N818 - a signal to the caller, not an error for users
    """The answer needs what only the full client does (following a redirect)."""


class ProtocolError(Exception):
    """The server's answer is not valid HTTP/1.1."""


def usable(base_url: str, httpx_client: object | None) -> bool:
    """True when a GET to ``base_url`` over this path behaves as the full client's would."""
    url = urllib.parse.urlsplit(base_url)
    return (
        httpx_client is None
        and url.scheme.lower() in ("http", "https")
        and bool(url.hostname)
        and url.username is None
        and not _proxy_configured()
    )


def _proxy_configured() -> bool:
    """Whether httpx (``trust_env``) would send through a proxy; checked cheaply on Linux."""
    if sys.platform in ("darwin", "win32"):  # proxies may come from the system settings there
        import urllib.request

        return any(key in ("http", "https", "all") for key in urllib.request.getproxies())
    return any(key.lower() in _PROXY_VARIABLES and value for key, value in os.environ.items())


def prompt_target(name: str, *, version: int | None, label: str | None) -> str:
    """The path and query of ``GET /api/public/v2/prompts/{name}`` (what ``api.prompts.get`` sends)."""
    pairs = (("version", version), ("label", label))
    query = [(key, str(value)) for key, value in pairs if value is not None]
    return path(PROMPT_PATH, name) + ("?" + urllib.parse.urlencode(query) if query else "")


def get_prompt_json(
    base_url: str,
    headers: Mapping[str, str],
    name: str,
    *,
    version: int | None,
    label: str | None,
    timeout: float | None,
) -> Any:
    """``GET /api/public/v2/prompts/{name}`` as decoded JSON (what ``api.prompts.get`` validates)."""
    return get_json(base_url, prompt_target(name, version=version, label=label), headers, timeout)


def get_json(base_url: str, target: str, headers: Mapping[str, str], timeout: float | None) -> Any:
    """GET ``base_url/target``; the decoded 2xx body, else the `ApiError` its status maps to."""
    url = urllib.parse.urlsplit(base_url)
    prefix = urllib.parse.quote(url.path.rstrip("/"), safe="/%:@!$&'()*+,;=~")
    request = _request_bytes(url, f"{prefix}/{target}", headers)
    status, body = _exchange(url, request, timeout, base_url)
    if status in _REDIRECTS:
        raise NeedsFullClient(f"HTTP {status}")
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(status_code=status, body=body.decode("utf-8", "replace")) from None
    if not 200 <= status < 300:
        raise error_for_status(status, data)
    return data


def _request_bytes(url: urllib.parse.SplitResult, target: str, headers: Mapping[str, str]) -> bytes:
    host = url.netloc.rpartition("@")[2]
    lines = [f"GET {target} HTTP/1.1", f"Host: {host}"]
    fields = {"Accept": "application/json", "Accept-Encoding": "identity", "User-Agent": USER_AGENT}
    fields.update(headers)
    for name, value in fields.items():
        if any(c in f"{name}{value}" for c in "\r\n\0") or ":" in name:
            raise ValueError(f"invalid HTTP header {name!r}")  # never split a request by a header value
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def _exchange(
    url: urllib.parse.SplitResult, request: bytes, timeout: float | None, base_url: str
) -> tuple[int, bytes]:
    """One request/response; a reused connection the server closed meanwhile is replaced once."""
    waited = False
    while True:
        connection = _POOL.take(url)
        if connection is None:
            try:
                connection = _Connection.open(url, timeout)
            except OSError as exc:
                if not waited and isinstance(exc, ConnectionRefusedError) and wait_for_startup(base_url):
                    waited = True  # the local server %load_ext launched answers now
                    continue
                raise _httpx_error(exc, connecting=True) from exc
        try:
            status, body, keep = connection.exchange(request, timeout)
        except (OSError, ProtocolError) as exc:
            connection.close()
            if connection.reused and not connection.answered and not isinstance(exc, TimeoutError):
                continue  # the idle connection was closed by the server: try a fresh one
            raise _httpx_error(exc, connecting=False) from exc
        _POOL.give_back(url, connection, keep=keep)
        return status, body


def _httpx_error(error: BaseException, *, connecting: bool) -> Exception:
    """The httpx exception the full client raises for this failure (so callers catch the same types)."""
    import httpx

    message = str(error) or type(error).__name__
    if isinstance(error, TimeoutError):
        return httpx.ConnectTimeout(message) if connecting else httpx.ReadTimeout(message)
    if connecting:
        return httpx.ConnectError(message)
    if isinstance(error, ProtocolError):
        return httpx.RemoteProtocolError(message)
    return httpx.ReadError(message)


class _Connection:
    """One HTTP/1.1 connection (TLS-wrapped for https) and its buffered reader."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader: BinaryIO = sock.makefile("rb")  # type: ignore[assignment]
        self.reused = False
        self.answered = False  # some bytes of the current answer arrived

    @classmethod
    def open(cls, url: urllib.parse.SplitResult, timeout: float | None) -> _Connection:
        host = url.hostname or ""
        https = url.scheme.lower() == "https"
        port = url.port or (443 if https else 80)
        # an ASCII host as bytes: a str is run through the idna codec (an import of ~2 ms) first
        address = host.encode("ascii") if host.isascii() else host
        sock = socket.create_connection((address, port), timeout=timeout)  # type: ignore[arg-type]
        if https:
            try:
                sock = _POOL.tls().wrap_socket(sock, server_hostname=host)
            except BaseException:
                sock.close()
                raise
        return cls(sock)

    def exchange(self, request: bytes, timeout: float | None) -> tuple[int, bytes, bool]:
        """Send ``request``; the status, the body and whether the connection may be reused."""
        self.answered = False
        self.sock.settimeout(timeout)
        self.sock.sendall(request)
        while True:
            version, status = self._status_line()
            headers = self._headers()
            if not 100 <= status < 200:  # 1xx are interim answers: the real one follows
                break
        body, until_close = self._body(status, headers)
        closing = "close" in headers.get("connection", "").lower()
        return status, body, not (until_close or closing or version != "HTTP/1.1")

    def _line(self) -> bytes:
        line = self.reader.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE:
            raise ProtocolError("header line too long")
        if not line:
            raise ProtocolError("server closed the connection without an answer")
        self.answered = True
        return line

    def _status_line(self) -> tuple[str, int]:
        parts = self._line().decode("latin-1").split(None, 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise ProtocolError(f"malformed status line {parts!r}")
        return parts[0], int(parts[1])

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for _ in range(_MAX_HEADERS):
            line = self._line().decode("latin-1").rstrip("\r\n")
            if not line:
                return headers
            name, sep, value = line.partition(":")
            if not sep:
                raise ProtocolError(f"malformed header line {line!r}")
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        raise ProtocolError("too many headers")

    def _body(self, status: int, headers: dict[str, str]) -> tuple[bytes, bool]:
        """The body, and whether it was delimited by the server closing the connection."""
        if status in (204, 304):
            return b"", False
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self._chunked(), False
        length = headers.get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                raise ProtocolError(f"bad Content-Length {length!r}")
            return self._exactly(int(length)), False
        return self.reader.read(), True

    def _chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size_text = self._line().split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ProtocolError(f"bad chunk size {size_text!r}") from None
            if size == 0:
                while self._line() not in (b"\r\n", b"\n"):  # trailer fields, ignored
                    pass
                return b"".join(parts)
            parts.append(self._exactly(size))
            self._line()  # the CRLF after the chunk

    def _exactly(self, size: int) -> bytes:
        data = self.reader.read(size)
        if len(data) != size:
            raise ProtocolError(f"answer ended after {len(data)} of {size} bytes")
        return data

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


class _Pool:
    """Idle keep-alive connections per (scheme, host, port), and the one TLS context."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, str], list[_Connection]] = {}
        self._pid = os.getpid()
        self._tls: Any = None

    def take(self, url: urllib.parse.SplitResult) -> _Connection | None:
        """An idle connection to ``url``'s server, or None."""
        with self._lock:
            if self._pid != os.getpid():  # after fork the parent's sockets are not ours to use
                self._idle, self._pid = {}, os.getpid()
            idle = self._idle.get((url.scheme.lower(), url.netloc))
            connection = idle.pop() if idle else None
        if connection is not None:
            connection.reused = True
        return connection

    def give_back(self, url: urllib.parse.SplitResult, connection: _Connection, *, keep: bool) -> None:
        if keep:
            with self._lock:
                idle = self._idle.setdefault((url.scheme.lower(), url.netloc), [])
                if len(idle) < _MAX_IDLE and self._pid == os.getpid():
                    idle.append(connection)
                    return
        connection.close()

    def tls(self) -> Any:
        """One verifying context per process: its CA bundle is read once, on the first handshake."""
        with self._lock:
            if self._tls is None:
                from ._tls import LazyTrustContext

                self._tls = LazyTrustContext()
            return self._tls


_POOL = _Pool()

__all__ = [
    "DEFAULT_TIMEOUT",
    "NeedsFullClient",
    "ProtocolError",
    "get_json",
    "get_prompt_json",
    "prompt_target",
    "usable",
]
