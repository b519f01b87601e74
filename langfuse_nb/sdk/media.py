"""Media handling (placeholder until implemented): detection, upload, reference resolution."""

from __future__ import annotations

from typing import Any


class MediaManager:
    """Placeholder with the agreed interface; processing is a no-op."""

    def __init__(self, *, api: Any, thread_count: int = 1, enabled: bool = True) -> None:
        self._api = api

    def process(self, value: Any, *, field: str, trace_id: str, observation_id: str) -> Any:
        return value

    def flush(self, timeout: float | None = None) -> None:
        return None

    def shutdown(self, timeout: float | None = None) -> None:
        return None


class MediaMixin:
    pass
