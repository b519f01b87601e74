"""The OTLP/HTTP span exporter, with Langfuse auth and SDK headers, that reports why an attempt failed.

OpenTelemetry's ``OTLPSpanExporter`` answers only success or failure, does not retry a 500 and retries
503/429 inside its own timeout. Ours makes exactly one attempt per call and says whether it is worth
retrying and after how long (``Retry-After``), so the span processor can retry within the SDK's one
policy and outage budget (`langfuse_nb._retry`).
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import threading
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

import langfuse_nb._stdhttp as _stdhttp
from langfuse_nb._retry import is_transport_error, retry_after, retryable_status
from langfuse_nb._settings import Settings
from langfuse_nb.tracing.otlp import Encoded, SpanEncoder, request_body
from langfuse_nb.wire.attributes import SDK_NAME, SDK_VERSION

if TYPE_CHECKING:
    import ssl

    import httpx
    from opentelemetry.sdk.trace import ReadableSpan

logger = logging.getLogger("langfuse_nb")


def auth_header(public_key: str, secret_key: str) -> str:
    token = base64.b64encode(f"{public_key}:{secret_key}".encode()).decode("ascii")
    return f"Basic {token}"


def otlp_headers(settings: Settings) -> dict[str, str]:
    """Headers of the OTLP channel; ``additional_headers`` override the defaults."""
    headers = {
        "Authorization": auth_header(settings.public_key or "", settings.secret_key or ""),
        "x-langfuse-sdk-name": SDK_NAME,
        "x-langfuse-sdk-version": SDK_VERSION,
        "x-langfuse-public-key": settings.public_key or "",
    }
    headers.update(settings.additional_headers or {})
    return headers


@dataclass(frozen=True)
class Attempt:
    """Outcome of one export request."""

    ok: bool
    retryable: bool = False
    retry_after: float | None = None
    error: str = ""
    no_answer: bool = False  # timeout or refused connection (the endpoint may be hung or down)
    refused: bool = False  # nothing listens there (the server is down): cheap to watch for its return


class LangfuseSpanExporter(SpanExporter):
    """POST spans as OTLP protobuf; one attempt per call (the processor owns the retries)."""

    def __init__(
        self,
        endpoint: str,
        headers: dict[str, str],
        timeout: float,
        *,
        compression: Literal["gzip", "deflate"] | None = None,
        tls_files: TlsFiles | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._headers = {**headers, "Content-Type": "application/x-protobuf"}
        if compression is not None:
            self._headers["Content-Encoding"] = compression
        self._compression = compression
        self._tls_files = tls_files
        self._timeout = timeout
        self._http: httpx.Client | None = None
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self.in_flight_since: float | None = None  # monotonic start of the request being sent, if any
        self._encoder = SpanEncoder()
        # plain http without a proxy (the local server): the standard library, not httpx (see _stdhttp)
        self._plain = _stdhttp.PlainPoster(endpoint, timeout) if _stdhttp.usable(endpoint) else None

    def _client(self) -> httpx.Client:
        if self._pid != os.getpid():  # a forked child must not share the parent's pooled connections
            self._http, self._pid = None, os.getpid()
        if self._http is None:
            with self._lock:
                if self._http is None:
                    import httpx

                    verify = self._tls_files.context() if self._tls_files else True
                    self._http = httpx.Client(timeout=self._timeout, verify=verify)
        return self._http

    def send(self, spans: Sequence[ReadableSpan]) -> Attempt:
        """Encode and POST ``spans`` once; never raises."""
        try:
            return self.send_encoded([self._encoder.encode(span) for span in spans])
        except Exception as exc:  # a span that cannot be encoded will never be: do not retry it
            logger.warning("langfuse_nb: could not encode %d spans: %s", len(spans), exc)
            return Attempt(ok=False, error=f"encoding failed: {exc}")

    def encode(self, span: ReadableSpan) -> Encoded:
        """``span`` in its compact queued form (its OTLP bytes); see `send_encoded`."""
        return self._encoder.encode(span)

    def send_encoded(self, spans: Sequence[Encoded]) -> Attempt:
        """POST spans already encoded by `encode` once; never raises."""
        return self._post(request_body(spans))

    def _post(self, body: bytes) -> Attempt:
        if self._compression is not None:
            body = _compressed(body, self._compression)
        self.in_flight_since = time.monotonic()
        try:
            if self._plain is not None:
                response: Any = self._plain.post(body, self._headers)
            else:
                response = self._client().post(self.endpoint, content=body, headers=self._headers)
        except Exception as exc:
            transport = _stdhttp.is_transport_failure(exc) or is_transport_error(exc)
            return Attempt(
                ok=False,
                retryable=transport,
                error=_describe(exc),
                no_answer=transport,
                refused=_refused(exc),
            )
        finally:
            self.in_flight_since = None
        status = response.status_code
        if 200 <= status < 300:
            return Attempt(ok=True)
        error = f"HTTP {status}: {response.text[:200]}"
        hint = retry_after(response.headers)
        return Attempt(ok=False, retryable=retryable_status(status), retry_after=hint, error=error)

    def listening(self, timeout: float = 0.2) -> bool:
        """Whether the endpoint's port accepts a TCP connection now (after refused ones: it is back)."""
        parts = urllib.parse.urlsplit(self.endpoint)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((parts.hostname or "localhost", port), timeout=timeout):
                return True
        except OSError:
            return False

    def hung_for(self) -> float:
        """Seconds the current request has been waiting for an answer (0 when none is in flight)."""
        since = self.in_flight_since
        return 0.0 if since is None else time.monotonic() - since

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """The OpenTelemetry interface: one attempt, no retries."""
        return SpanExportResult.SUCCESS if self.send(spans).ok else SpanExportResult.FAILURE

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True  # nothing is buffered here

    def shutdown(self) -> None:
        if self._plain is not None:
            self._plain.close()
        http, self._http = self._http, None
        if http is not None:
            http.close()


def _compressed(body: bytes, compression: str) -> bytes:
    import zlib  # only when compression is configured: gzip's module is not needed otherwise

    if compression == "deflate":
        return zlib.compress(body)
    # a gzip member (what Content-Encoding: gzip means) at zlib's default level 6: most of level 9's gain
    packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return packer.compress(body) + packer.flush()


def _refused(exc: BaseException) -> bool:
    """A connection refused (nothing listening), found in the chain of exceptions httpx wraps it in."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _describe(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass(frozen=True)
class TlsFiles:
    """``OTEL_EXPORTER_OTLP_CERTIFICATE`` / ``CLIENT_CERTIFICATE`` / ``CLIENT_KEY`` for an https endpoint."""

    certificate: str | None = None
    client_certificate: str | None = None
    client_key: str | None = None

    def context(self) -> ssl.SSLContext:
        """A verifying context trusting ``certificate`` (else httpx's default trust), with the client's
        certificate when one is given. A file that cannot be read raises here, on the export thread,
        where the attempt fails and is reported like any transport error."""
        import ssl

        import certifi

        trusted = self.certificate or os.environ.get("SSL_CERT_FILE") or certifi.where()
        context = ssl.create_default_context(cafile=trusted)
        if self.client_certificate:
            context.load_cert_chain(self.client_certificate, self.client_key)
        return context


def build_exporter(settings: Settings) -> LangfuseSpanExporter:
    files = (settings.otlp_certificate, settings.otlp_client_certificate, settings.otlp_client_key)
    return LangfuseSpanExporter(
        settings.traces_endpoint,
        otlp_headers(settings),
        settings.timeout,
        compression=settings.otlp_compression,
        tls_files=TlsFiles(*files) if any(files) else None,
    )


__all__ = ["Attempt", "LangfuseSpanExporter", "TlsFiles", "auth_header", "build_exporter", "otlp_headers"]
