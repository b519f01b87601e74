"""A loopback Langfuse sink: accepts OTLP/HTTP protobuf spans and ingestion JSON, records or counts them.

In-process (tests):   sink = Sink(); sink.start(); ... sink.spans ...; sink.stop()
As a process (bench): python benchmarks/_sink.py  -> prints the port; GET /_stats returns counts.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

OTLP_PATH = "/api/public/otel/v1/traces"
INGESTION_PATH = "/api/public/ingestion"


def _any_value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _any_value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind) if kind else None


def _attrs(items: Any) -> dict[str, Any]:
    return {kv.key: _any_value(kv.value) for kv in items}


def decode_spans(body: bytes) -> list[dict[str, Any]]:
    """Flatten an ExportTraceServiceRequest into one dict per span."""
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for rs in request.resource_spans:
        resource = _attrs(rs.resource.attributes)
        for ss in rs.scope_spans:
            scope = {
                "name": ss.scope.name,
                "version": ss.scope.version,
                "attributes": _attrs(ss.scope.attributes),
            }
            for span in ss.spans:
                spans.append(
                    {
                        "name": span.name,
                        "trace_id": span.trace_id.hex(),
                        "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex() or None,
                        "start": span.start_time_unix_nano,
                        "end": span.end_time_unix_nano,
                        "attributes": _attrs(span.attributes),
                        "status": {"code": span.status.code, "message": span.status.message},
                        "events": [{"name": e.name, "attributes": _attrs(e.attributes)} for e in span.events],
                        "scope": scope,
                        "resource": resource,
                    }
                )
    return spans


def count_spans(body: bytes) -> int:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)


class Sink:
    """Thread-safe recorder behind a ThreadingHTTPServer on 127.0.0.1 (port 0 = any free port)."""

    def __init__(self, *, store: bool = True, port: int = 0) -> None:
        self.store = store
        self.spans: list[dict[str, Any]] = []
        self.ingestion: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []  # path + headers of each POST
        self.span_count = 0
        self.status_override: int | None = None  # force an HTTP status (failure tests)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Sink:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="sink")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def clear(self) -> None:
        with self._lock:
            self.spans.clear()
            self.ingestion.clear()
            self.requests.clear()
            self.span_count = 0

    def spans_named(self, name: str) -> list[dict[str, Any]]:
        return [s for s in list(self.spans) if s["name"] == name]

    def span(self, name: str) -> dict[str, Any]:
        found = self.spans_named(name)
        names = [s["name"] for s in self.spans]
        assert len(found) == 1, f"expected one span {name!r}, got {len(found)}: {names}"
        return found[0]

    def score_events(self) -> list[dict[str, Any]]:
        events = [e for batch in list(self.ingestion) for e in batch.get("batch", [])]
        return [e for e in events if e.get("type") == "score-create"]

    def stats(self) -> dict[str, int]:
        events = sum(len(b.get("batch", [])) for b in self.ingestion)
        return {"spans": self.span_count, "ingestion_events": events}

    def record_otlp(self, body: bytes, headers: dict[str, str]) -> None:
        encoding = headers.get("content-encoding", "").lower()
        if encoding in ("gzip", "deflate"):  # OTEL_EXPORTER_OTLP_COMPRESSION (both SDKs honour it)
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
        if self.store:
            spans = decode_spans(body)
            with self._lock:
                self.spans.extend(spans)
                self.span_count += len(spans)
                self.requests.append({"path": OTLP_PATH, "headers": headers})
        else:
            n = count_spans(body)
            with self._lock:
                self.span_count += n

    def record_ingestion(self, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        payload = json.loads(body)
        with self._lock:
            self.ingestion.append(payload)
            self.requests.append({"path": INGESTION_PATH, "headers": headers})
        ids = [e.get("id") for e in payload.get("batch", [])]
        return {"successes": [{"id": i, "status": 201} for i in ids], "errors": []}


def _handler_for(sink: Sink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like a real server
        # headers and body go out in two writes: with Nagle's algorithm the body waits for the client's
        # delayed ACK, 40 ms per request that no real server adds (and that every exporter then pays)
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _reply(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            if sink.status_override is not None:
                self._reply(sink.status_override, {"message": "forced"})
            elif self.path.endswith(OTLP_PATH):
                sink.record_otlp(body, headers)
                self._reply(200, {})
            elif self.path.endswith(INGESTION_PATH):
                self._reply(207, sink.record_ingestion(body, headers))
            else:
                self._reply(404, {"message": "not found"})

        def do_GET(self) -> None:
            if self.path.endswith("/api/public/projects"):
                self._reply(200, {"data": [{"id": "sink-project", "name": "sink", "metadata": {}}]})
            elif self.path.endswith("/api/public/health"):
                self._reply(200, {"status": "OK", "version": "sink"})
            elif self.path == "/_stats":
                self._reply(200, sink.stats())
            elif self.path == "/_reset":
                sink.clear()
                self._reply(200, {})
            else:
                self._reply(404, {"message": "not found"})

    return Handler


if __name__ == "__main__":
    port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 0
    sink = Sink(store="--store" in sys.argv, port=port)
    print(sink.url, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        sink._server.serve_forever()
