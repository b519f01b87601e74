"""A loopback HTTP proxy in front of a real server that injects outages for a time window.

    proxy = FaultProxy(server.url).start()
    proxy.fail(500, seconds=8)                 # every request answers 500 for 8 s
    proxy.fail(429, seconds=8, retry_after=1)  # ... with Retry-After: 1
    proxy.hang(seconds=8)                      # requests get no answer; the connection closes at the end
    proxy.stop()

Outside a fault window requests are forwarded unchanged (keep-alive to the upstream per handler thread);
an upstream that refuses connections (restarting) answers 502. Also used by benchmarks/bench_soak.py.
"""

from __future__ import annotations

import http.client
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
}
_JSON = ("Content-Type", "application/json")
_NOT_COPIED = _HOP_BY_HOP | {"server", "date"}  # send_response() writes its own


Observer = Callable[[str, bytes, int, bytes], None]  # (path, request body, status, response body)


@dataclass
class Fault:
    kind: str  # "status" or "hang"
    until: float
    status: int = 500
    retry_after: float | None = None


class FaultProxy:
    """Threaded proxy; ``upstream`` may change (``retarget``) while it runs."""

    def __init__(self, upstream: str, *, port: int = 0, observer: Observer | None = None) -> None:
        self.upstream = upstream
        self.observer = observer  # sees every forwarded exchange (the soak benchmark counts acks with it)
        self._fault: Fault | None = None
        self._lock = threading.Lock()
        self.forwarded = 0
        self.faulted = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="fault-proxy")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._fault = None
        self._server.shutdown()
        self._server.server_close()

    def retarget(self, upstream: str) -> None:
        self.upstream = upstream

    def fail(self, status: int, *, seconds: float, retry_after: float | None = None) -> None:
        self._fault = Fault("status", time.monotonic() + seconds, status, retry_after)

    def hang(self, *, seconds: float) -> None:
        self._fault = Fault("hang", time.monotonic() + seconds)

    def clear(self) -> None:
        self._fault = None

    def current_fault(self) -> Fault | None:
        fault = self._fault
        if fault is not None and time.monotonic() >= fault.until:
            return None
        return fault

    def count(self, *, faulted: bool) -> None:
        with self._lock:
            if faulted:
                self.faulted += 1
            else:
                self.forwarded += 1


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        _upstream: tuple[str, http.client.HTTPConnection] | None = None

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _handle(self) -> None:
            body = self._body()
            fault = proxy.current_fault()
            if fault is not None:
                proxy.count(faulted=True)
                self._inject(fault)
                return
            proxy.count(faulted=False)
            self._forward(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815

        def _inject(self, fault: Fault) -> None:
            if fault.kind == "hang":
                while time.monotonic() < fault.until and proxy._fault is fault:
                    time.sleep(0.05)
                self.close_connection = True  # end of the window: hang up without an answer
                return
            payload = b'{"message": "injected fault"}'
            self.send_response(fault.status)
            if fault.retry_after is not None:
                self.send_header("Retry-After", f"{fault.retry_after:g}")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _connection(self) -> http.client.HTTPConnection:
            upstream = proxy.upstream
            if self._upstream is None or self._upstream[0] != upstream:
                parsed = urllib.parse.urlsplit(upstream)
                conn = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=60)
                self._upstream = (upstream, conn)
            return self._upstream[1]

        def _forward(self, body: bytes) -> None:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            try:
                conn = self._connection()
                conn.request(self.command, self.path, body=body or None, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                self._upstream = None  # the upstream is restarting: a reverse proxy answers 502
                self._reply(502, b'{"message": "upstream unavailable"}', [_JSON])
                return
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _NOT_COPIED]
            if proxy.observer is not None:
                proxy.observer(self.path, body, response.status, payload)
            self._reply(response.status, payload, kept)

        def _reply(self, status: int, payload: bytes, headers: list[tuple[str, str]]) -> None:
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler
