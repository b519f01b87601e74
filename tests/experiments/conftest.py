"""Fixtures: a Langfuse client on the session server, and a reader that checks what arrived."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from langfuse_nb.server.runner import ServerHandle


class ServerReader:
    """Reads the server's public API directly (independent of the SDK under test)."""

    def __init__(self, server: ServerHandle) -> None:
        self._http = httpx.Client(
            base_url=server.url, auth=(server.public_key, server.secret_key), timeout=10
        )

    def get(self, path: str, **params: Any) -> Any:
        response = self._http.get(path, params={k: v for k, v in params.items() if v is not None})
        response.raise_for_status()
        return response.json()

    def all_pages(self, path: str, **params: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.get(path, page=page, limit=100, **params)
            rows += body["data"]
            if len(body["data"]) < 100:
                return rows
            page += 1

    def wait_for(self, probe: Callable[[], Any], *, timeout: float = 10.0) -> Any:
        """Poll ``probe`` until it returns something truthy (ingestion may lag a flush slightly)."""
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.05)

    def close(self) -> None:
        self._http.close()


@pytest.fixture(scope="module")
def lf(server: ServerHandle) -> Iterator[Any]:
    from langfuse_nb import Langfuse

    client = Langfuse(public_key=server.public_key, secret_key=server.secret_key, base_url=server.url)
    yield client
    client.flush()


@pytest.fixture(scope="module")
def reader(server: ServerHandle) -> Iterator[ServerReader]:
    r = ServerReader(server)
    yield r
    r.close()
