"""Shared fixtures: a real langfuse_nb server on a loopback port with a temporary database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
