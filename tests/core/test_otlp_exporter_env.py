"""OpenTelemetry's OTLP exporter variables the reference's span exporter honours: compression and TLS files.

The reference passes its endpoint, headers and timeout to OpenTelemetry's ``OTLPSpanExporter``, which reads
``OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION``, ``..._CERTIFICATE``, ``..._CLIENT_CERTIFICATE`` and
``..._CLIENT_KEY`` from the environment; a private CA for a self-hosted Langfuse is commonly given that way.
"""

from __future__ import annotations

import logging
import os
import ssl
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from _sink import Sink

from langfuse_nb._settings import resolve_settings
from langfuse_nb.sdk.client import Langfuse
from langfuse_nb.server.runner import ServerHandle

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from api_testkit import self_signed_tls  # noqa: E402

# one span through either SDK, then flush: argv = module, base url, public key, secret key, span name
SCRIPT = """
import sys
mod, url, key, secret, name = sys.argv[1:6]
sdk = __import__(mod)
where = {"base_url" if mod == "langfuse_nb" else "host": url}
client = sdk.Langfuse(public_key=key, secret_key=secret, **where)
client.start_span(name=name).end()
client.flush()
client.shutdown()
"""


def _send(sdk: str, url: str, env: dict[str, str], keys: tuple[str, str] | None = None) -> str:
    """The public key of one span sent by ``sdk``; the span is named after it (unique among tests)."""
    key, secret = keys or (f"pk-env-{uuid.uuid4().hex[:10]}", "sk-env")
    # requests (the reference's transport) lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's
    # CA file; some machines set them globally, which would test the machine instead of the SDKs
    dropped = ("LANGFUSE_", "OTEL_", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, sdk, url, key, secret, f"{key}-{uuid.uuid4().hex[:6]}"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return key


def _requests_of(sink: Sink, key: str) -> list[dict[str, Any]]:
    return [r for r in sink.requests if r["headers"].get("x-langfuse-public-key") == key]


def _tls_sink(context: ssl.SSLContext) -> tuple[Sink, str]:
    sink = Sink()
    sink._server.socket = context.wrap_socket(sink._server.socket, server_side=True)
    sink.start()
    return sink, sink.url.replace("http://", "https://")


@pytest.mark.reference
@pytest.mark.parametrize("compression", ["gzip", "deflate"])
def test_compressed_like_the_reference(sink: Sink, compression: str) -> None:
    pytest.importorskip("langfuse")
    env = {"OTEL_EXPORTER_OTLP_COMPRESSION": compression}
    for sdk in ("langfuse", "langfuse_nb"):
        key = _send(sdk, sink.url, env)
        (request,) = _requests_of(sink, key)
        assert request["headers"]["content-encoding"] == compression, sdk
        assert len([s for s in sink.spans if s["name"].startswith(key)]) == 1, sdk  # decompressed


def test_gzip_spans_are_stored_by_the_local_server(server: ServerHandle) -> None:
    auth = (server.public_key, server.secret_key)
    env = {"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "gzip"}
    key = _send("langfuse_nb", server.url, env, keys=auth)
    with httpx.Client(base_url=server.url, auth=auth, timeout=30) as http:
        names = [
            o["name"] for o in http.get("/api/public/observations", params={"limit": 100}).json()["data"]
        ]
    assert len([n for n in names if n.startswith(key)]) == 1


def test_traces_variables_win_and_unknown_compression_is_ignored(caplog: pytest.LogCaptureFixture) -> None:
    settings = resolve_settings(
        public_key="pk",
        environ={
            "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
            "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "none",
            "OTEL_EXPORTER_OTLP_CERTIFICATE": "/generic.pem",
            "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE": "/traces.pem",
        },
    )
    assert settings.otlp_compression is None and settings.otlp_certificate == "/traces.pem"
    with caplog.at_level(logging.WARNING, logger="langfuse_nb"):
        bogus = resolve_settings(public_key="pk", environ={"OTEL_EXPORTER_OTLP_COMPRESSION": "brotli"})
    assert bogus.otlp_compression is None
    assert any("brotli" in r.getMessage() for r in caplog.records)


@pytest.mark.reference
def test_a_private_ca_from_the_certificate_variable(tmp_path: Path) -> None:
    pytest.importorskip("langfuse")
    context, cert = self_signed_tls(tmp_path)
    sink, url = _tls_sink(context)
    try:
        for sdk in ("langfuse", "langfuse_nb"):
            key = _send(sdk, url, {"OTEL_EXPORTER_OTLP_CERTIFICATE": str(cert)})
            assert len(_requests_of(sink, key)) == 1, sdk
    finally:
        sink.stop()


def test_an_untrusted_certificate_fails_the_export_without_raising(tmp_path: Path) -> None:
    context, _ = self_signed_tls(tmp_path)
    sink, url = _tls_sink(context)
    client = Langfuse(public_key=f"pk-lf-{uuid.uuid4().hex[:10]}", secret_key="sk", base_url=url)
    try:
        client.start_span(name="untrusted").end()
        client.flush(timeout=2)  # bounded: the failed attempts are retried in the background
        assert sink.spans == []
    finally:
        client.shutdown(timeout=2)
        sink.stop()


def test_a_client_certificate_for_mutual_tls(tmp_path: Path) -> None:
    context, cert = self_signed_tls(tmp_path)
    context.verify_mode = ssl.CERT_REQUIRED  # the server asks the exporter for a certificate it trusts
    context.load_verify_locations(cert)
    sink, url = _tls_sink(context)
    env = {
        "OTEL_EXPORTER_OTLP_CERTIFICATE": str(cert),
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": str(cert),
        "OTEL_EXPORTER_OTLP_CLIENT_KEY": str(tmp_path / "key.pem"),
    }
    try:
        key = _send("langfuse_nb", url, env)
        assert len(_requests_of(sink, key)) == 1
        no_client_cert = {k: v for k, v in env.items() if "CLIENT" not in k}
        # a refused handshake is retried like any transport failure: keep the exiting script's wait short
        refused = _send("langfuse_nb", url, {**no_client_cert, "LANGFUSE_NB_RETRY_BUDGET_SECONDS": "1"})
        assert _requests_of(sink, refused) == []
    finally:
        sink.stop()
