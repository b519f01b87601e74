"""Fixtures for server tests: an authenticated httpx client and an OTLP sender."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import server_testkit as kit

from langfuse_nb.server.runner import ServerHandle


@pytest.fixture
def client(server: ServerHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, auth=(server.public_key, server.secret_key), timeout=10) as http:
        yield http


@pytest.fixture
def send_spans(client: httpx.Client) -> Callable[..., httpx.Response]:
    """POST spans as protobuf (default) or OTLP/JSON; asserts success unless told otherwise."""

    def send(spans: list[dict[str, Any]], *, as_json: bool = False, expect: int = 200, **kwargs: Any) -> Any:
        if as_json:
            response = client.post("/api/public/otel/v1/traces", json=kit.json_request(spans, **kwargs))
        else:
            response = client.post(
                "/api/public/otel/v1/traces",
                content=kit.protobuf_request(spans, **kwargs),
                headers={"content-type": "application/x-protobuf"},
            )
        assert response.status_code == expect, response.text
        return response

    return send
