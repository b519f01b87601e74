"""The REST client of a plain-http base URL reads no CA bundle until a TLS connection needs one."""

from __future__ import annotations

import http.server
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_testkit import self_signed_tls

from langfuse_nb.api import LangfuseAPI
from langfuse_nb.api._tls import LazyTrustContext
from langfuse_nb.server.runner import ServerHandle


def test_http_client_defers_the_ca_bundle(server: ServerHandle) -> None:
    api = LangfuseAPI(base_url=server.url, username=server.public_key, password=server.secret_key)
    try:
        context = api.httpx_client._transport._pool._ssl_context  # type: ignore[attr-defined]
        assert isinstance(context, LazyTrustContext) and context.cert_store_stats()["x509_ca"] == 0
        assert api.health.health().status == "OK"  # plain http never loads it
        assert context.cert_store_stats()["x509_ca"] == 0
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    finally:
        api.close()


def test_https_client_keeps_httpx_default() -> None:
    api = LangfuseAPI(base_url="https://127.0.0.1:9", username="pk", password="sk")
    try:
        context = api.httpx_client._transport._pool._ssl_context  # type: ignore[attr-defined]
        assert not isinstance(context, LazyTrustContext)
    finally:
        api.close()


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    server_context, cert = self_signed_tls(tmp_path)
    httpd = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    httpd.socket = server_context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{httpd.server_address[1]}", cert
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_lazy_context_still_verifies(tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    url, cert = tls_server
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    lazy_client = httpx.Client(verify=LazyTrustContext())
    with lazy_client, pytest.raises(httpx.ConnectError, match="CERTIFICATE"):
        lazy_client.get(url)  # self-signed: not in certifi's bundle
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trusted the way httpx's default trusts it
    with httpx.Client(verify=LazyTrustContext()) as client:
        assert client.get(url).status_code in (200, 404)
