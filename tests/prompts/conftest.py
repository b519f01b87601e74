"""A Langfuse client on its own embedded server (real HTTP) with keys no other test uses.

Clients of one public key share an exporter pipeline and a prompt cache, so every test gets fresh keys.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def lf(tmp_path: Path) -> Iterator[Any]:
    from langfuse_nb.sdk.client import Langfuse
    from langfuse_nb.server.runner import start_in_thread

    suffix = uuid.uuid4().hex[:12]
    server = start_in_thread(
        port=0, db_path=tmp_path / "lf.db", public_key=f"pk-lf-{suffix}", secret_key=f"sk-lf-{suffix}"
    )
    client = Langfuse(public_key=server.public_key, secret_key=server.secret_key, base_url=server.url)
    yield client
    client.shutdown(timeout=5)
    server.stop()
