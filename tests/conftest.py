"""Shared fixtures: a real langfuse_nb server on a loopback port with a temporary database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from langfuse_nb.server.runner import ServerHandle, start_in_thread


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """One server for the whole test session (shared database: use unique names/ids)."""
    db_path: Path = tmp_path_factory.mktemp("langfuse-nb-server") / "lf.db"
    handle = start_in_thread(port=0, db_path=db_path)
    yield handle
    handle.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[ServerHandle]:
    """A server with its own empty database, for tests that need isolation."""
    handle = start_in_thread(port=0, db_path=tmp_path / "lf.db")
    yield handle
    handle.stop()


@pytest.fixture
def server_env(server: ServerHandle, monkeypatch: pytest.MonkeyPatch) -> ServerHandle:
    """Point the LANGFUSE_* environment variables at the session server."""
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", server.public_key)
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", server.secret_key)
    monkeypatch.setenv("LANGFUSE_BASE_URL", server.url)
    monkeypatch.delenv("LANGFUSE_HOST", raising=False)
    return server


@pytest.fixture
def lf(tmp_path: Path) -> Iterator[Any]:
    """A Langfuse client on its own server, with keys no other test uses.

    Clients of one public key share an exporter pipeline and a prompt cache, so every test gets fresh keys.
    """
    from langfuse_nb.sdk.client import Langfuse

    suffix = uuid.uuid4().hex[:12]
    handle = start_in_thread(
        port=0, db_path=tmp_path / "lf.db", public_key=f"pk-lf-{suffix}", secret_key=f"sk-lf-{suffix}"
    )
    client = Langfuse(public_key=handle.public_key, secret_key=handle.secret_key, base_url=handle.url)
    yield client
    client.shutdown(timeout=5)
    handle.stop()
