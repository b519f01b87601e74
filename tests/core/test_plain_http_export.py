"""The exporter's standard-library transport for plain-http endpoints (the local server)."""

from __future__ import annotations

import logging
import time
import uuid

import pytest
from _sink import Sink

from langfuse_nb import _stdhttp as plain_http
from langfuse_nb.sdk.client import Langfuse
from langfuse_nb.tracing.exporter import LangfuseSpanExporter


def _exporter(url: str) -> LangfuseSpanExporter:
    return LangfuseSpanExporter(f"{url}/api/public/otel/v1/traces", {"Authorization": "Basic eDp5"}, 5.0)


def test_plain_http_endpoints_are_sent_without_importing_httpx_for_it() -> None:
    exporter = _exporter("http://127.0.0.1:1")
    assert exporter._plain is not None
    assert _exporter("https://cloud.example")._plain is None  # TLS: httpx's trust settings apply


def test_a_proxy_in_the_environment_sends_through_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    assert not plain_http.usable("http://127.0.0.1:3000/api/public/otel/v1/traces")
    assert _exporter("http://127.0.0.1:1")._plain is None


def test_a_connection_the_server_closed_is_replaced_without_a_failed_attempt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = Sink().start()
    # the server closes a connection idle for 0.3 s, as servers do after their keep-alive timeout
    sink._server.RequestHandlerClass.timeout = 0.3  # type: ignore[attr-defined]
    client = Langfuse(public_key=f"pk-lf-{uuid.uuid4().hex[:12]}", secret_key="sk", base_url=sink.url)
    resources = client._resources
    assert resources is not None
    try:
        client.start_span(name="one").end()
        client.flush(timeout=10)
        time.sleep(0.8)  # the kept-alive connection is closed by the server meanwhile
        with caplog.at_level(logging.WARNING, logger="langfuse_nb"):
            client.start_span(name="two").end()
            client.flush(timeout=10)
        assert not [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
        assert [s["name"] for s in sink.spans] == ["one", "two"]
        assert resources.dropped["spans"] == 0
    finally:
        client.shutdown(timeout=5)
        sink.stop()


def test_answers_and_failures_are_reported_like_httpx_would(monkeypatch: pytest.MonkeyPatch) -> None:
    sink = Sink().start()
    try:
        exporter = _exporter(sink.url)
        assert exporter._post(b"").ok
        sink.status_override = 503
        attempt = exporter._post(b"")
        assert not attempt.ok and attempt.retryable and attempt.error.startswith("HTTP 503")
        sink.status_override = 400
        assert not exporter._post(b"").retryable  # refused by the server: not worth a retry
    finally:
        sink.stop()
    refused = _exporter(sink.url)._post(b"")
    assert refused.retryable and refused.no_answer and refused.refused
