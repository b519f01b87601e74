"""A Langfuse client pointed at a fresh embedded server (real HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def lf(fresh_server: Any) -> Iterator[Any]:
    from langfuse_nb.sdk.client import Langfuse

    client = Langfuse(
        public_key=fresh_server.public_key, secret_key=fresh_server.secret_key, base_url=fresh_server.url
    )
    yield client
    client.shutdown(timeout=5)
