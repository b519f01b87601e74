"""Helpers shared by the LLM tests: reading observations and traces back, price constants."""

from __future__ import annotations

from typing import Any

import httpx

# gpt-4o-mini prices from the bundled table (USD per token): the hand-computed expectations use these
GPT4O_MINI = {"input": 1.5e-7, "output": 6e-7, "input_cached_tokens": 7.5e-8}


def read_observations(server: Any, trace_id: str) -> list[dict[str, Any]]:
    with httpx.Client(base_url=server.url, auth=(server.public_key, server.secret_key)) as client:
        response = client.get("/api/public/observations", params={"traceId": trace_id, "limit": 100})
    response.raise_for_status()
    return list(response.json()["data"])


def read_trace(server: Any, trace_id: str) -> dict[str, Any]:
    with httpx.Client(base_url=server.url, auth=(server.public_key, server.secret_key)) as client:
        response = client.get(f"/api/public/traces/{trace_id}")
    response.raise_for_status()
    return dict(response.json())


def unwrap_dropin(monkeypatch: Any) -> None:
    """Undo the drop-in's wrapping for one test (it stays installed once any test imported it), so a
    third-party instrumentation is measured alone and nothing is sent to another test's server."""
    import importlib

    from langfuse_nb.openai._wrap import _MARK, ENDPOINTS

    for endpoint in ENDPOINTS:
        try:
            cls = getattr(importlib.import_module(endpoint.module), endpoint.cls)
        except (ImportError, AttributeError):
            continue
        method = cls.__dict__.get(endpoint.method)
        if getattr(method, _MARK, False):
            monkeypatch.setattr(cls, endpoint.method, method.__wrapped__)
