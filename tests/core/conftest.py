"""Fixtures of the tracing-core tests: a loopback OTLP/ingestion sink and per-test clients."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from _sink import Sink  # noqa: E402

from langfuse_nb.sdk import registry  # noqa: E402
from langfuse_nb.sdk.client import Langfuse  # noqa: E402

LANGFUSE_ENV = [
    "LANGFUSE_PUBLIC_KEY",
    "LANGFUSE_SECRET_KEY",
    "LANGFUSE_BASE_URL",
    "LANGFUSE_HOST",
    "LANGFUSE_TIMEOUT",
    "LANGFUSE_DEBUG",
    "LANGFUSE_TRACING_ENABLED",
    "LANGFUSE_FLUSH_AT",
    "LANGFUSE_FLUSH_INTERVAL",
    "LANGFUSE_TRACING_ENVIRONMENT",
    "LANGFUSE_RELEASE",
    "LANGFUSE_SAMPLE_RATE",
    "LANGFUSE_OBSERVE_DECORATOR_IO_CAPTURE_ENABLED",
    "LANGFUSE_OTEL_TRACES_EXPORT_PATH",
    "LANGFUSE_MEDIA_UPLOAD_THREAD_COUNT",
    "GITHUB_SHA",
    "CI_COMMIT_SHA",
]


@pytest.fixture(scope="session")
def sink() -> Iterator[Sink]:
    s = Sink().start()
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in LANGFUSE_ENV:
        monkeypatch.delenv(name, raising=False)
    registry._reset_for_tests()
    yield
    registry._reset_for_tests()


class Harness:
    """Creates clients with unique keys against the sink and reads back their spans."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.clients: list[Langfuse] = []

    def client(self, **kwargs: Any) -> Langfuse:
        kwargs.setdefault("public_key", f"pk-lf-{uuid.uuid4().hex[:12]}")
        kwargs.setdefault("secret_key", "sk-lf-test")
        kwargs.setdefault("base_url", self.sink.url)
        client = Langfuse(**kwargs)
        self.clients.append(client)
        return client

    def spans(self, client: Langfuse) -> list[dict[str, Any]]:
        client.flush(timeout=10)
        key = client._settings.public_key
        return [s for s in list(self.sink.spans) if s["scope"]["attributes"].get("public_key") == key]

    def span(self, client: Langfuse, name: str) -> dict[str, Any]:
        found = [s for s in self.spans(client) if s["name"] == name]
        assert len(found) == 1, f"{name!r}: {[s['name'] for s in self.spans(client)]}"
        return found[0]

    def scores(self, client: Langfuse) -> list[dict[str, Any]]:
        client.flush(timeout=10)
        key = client._settings.public_key
        return [
            e
            for batch in list(self.sink.ingestion)
            if batch["metadata"]["public_key"] == key
            for e in batch["batch"]
        ]


@pytest.fixture
def lf(sink: Sink) -> Iterator[Harness]:
    harness = Harness(sink)
    yield harness
    for client in harness.clients:
        client.shutdown(timeout=5)


@pytest.fixture
def attrs_of(lf: Harness) -> Callable[[Langfuse, str], dict[str, Any]]:
    return lambda client, name: lf.span(client, name)["attributes"]
