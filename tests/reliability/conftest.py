"""A real embedded server (own keys and database) behind an in-process fault proxy, and SDK clients on it."""

from __future__ import annotations

import sqlite3
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fault_proxy import FaultProxy  # noqa: E402

from langfuse_nb.server.runner import ServerHandle, start_in_thread  # noqa: E402


@dataclass
class Stack:
    server: ServerHandle
    proxy: FaultProxy
    clients: list[Any] = field(default_factory=list)

    def client(self, **options: Any) -> Any:
        """A client whose pipeline is its own (fresh public key) and whose traffic goes through the proxy."""
        from langfuse_nb.sdk.client import Langfuse

        options.setdefault("flush_interval", 0.2)
        options.setdefault("timeout", 2)
        client = Langfuse(
            public_key=self.server.public_key,
            secret_key=self.server.secret_key,
            base_url=self.proxy.url,
            **options,
        )
        self.clients.append(client)
        return client

    def count(self, sql: str, *args: Any) -> int:
        with sqlite3.connect(str(self.server.db_path)) as db:
            return int(db.execute(sql, args).fetchone()[0])

    def stored_spans(self, prefix: str) -> int:
        return self.count("SELECT count(*) FROM observations WHERE name LIKE ?", f"{prefix}%")

    def stored_scores(self, prefix: str) -> int:
        return self.count("SELECT count(*) FROM scores WHERE name LIKE ?", f"{prefix}%")


@pytest.fixture(autouse=True)
def isolated() -> Iterator[None]:
    """No client or remembered endpoint of one test leaks into the next."""
    from langfuse_nb import _retry
    from langfuse_nb.sdk import registry

    registry._reset_for_tests()
    _retry._unreachable.clear()
    yield
    registry._reset_for_tests()
    _retry._unreachable.clear()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    suffix = uuid.uuid4().hex[:12]
    server = start_in_thread(
        port=0, db_path=tmp_path / "lf.db", public_key=f"pk-lf-{suffix}", secret_key=f"sk-lf-{suffix}"
    )
    proxy = FaultProxy(server.url).start()
    found = Stack(server, proxy)
    yield found
    proxy.clear()
    for client in found.clients:
        client.shutdown(timeout=5)
    proxy.stop()
    server.stop()
