"""A recording httpx handler for the REST client tests (importable: ``from api_testkit import Recorder``)."""

from __future__ import annotations

import contextlib
import json
import shutil
import ssl
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pydantic
import pytest


class Recorder:
    """An httpx handler that records every request and answers from a queue (default: 200 ``{}``)."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.replies: list[httpx.Response | Exception] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies.pop(0) if self.replies else httpx.Response(200, json={})
        if isinstance(reply, Exception):
            raise reply
        return reply

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    def body(self, index: int = -1) -> Any:
        content = self.requests[index].content
        return json.loads(content) if content else None


def quiet() -> contextlib.AbstractContextManager[None]:
    """Ignore the response parse error of the default ``{}`` reply (the request is what is tested)."""
    return contextlib.suppress(pydantic.ValidationError)


def self_signed_tls(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1, and the certificate's path.

    Skips the test when the ``openssl`` command is not installed.
    """
    if shutil.which("openssl") is None:  # pragma: no cover
        pytest.skip("openssl CLI not available")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context, cert
