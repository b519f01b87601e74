"""Fixtures for LLM-call tests: a local fake OpenAI server and helpers to read costs back."""

from __future__ import annotations

import sys
from pathlib import Path

# the server test kit (OpenAPI checks, OTLP builders) lives next to the server tests
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
