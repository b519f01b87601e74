"""Fixtures for LLM-call tests: a local fake OpenAI server and helpers to read costs back."""

from __future__ import annotations

import sys
from pathlib import Path

# the server test kit (OpenAPI checks, OTLP builders) lives next to the server tests
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from collections.abc import Iterator  # noqa: E402

import fake_openai  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def fake_llm() -> Iterator[fake_openai.FakeOpenAI]:
    """A local OpenAI-compatible server (deterministic answers and usage, SSE streaming)."""
    server = fake_openai.start()
    yield server
    server.stop()
