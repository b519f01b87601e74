"""In-memory prompt cache: TTL entries, stale-while-revalidate refreshes on the shared batch worker."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langfuse_nb._settings import env_setting
from langfuse_nb.tracing.worker import BatchWorker

logger = logging.getLogger("langfuse_nb")

DEFAULT_TTL_SECONDS = 60
TTL_ENV_VAR = "LANGFUSE_PROMPT_CACHE_DEFAULT_TTL_SECONDS"


def default_ttl_seconds(environ: Any = None) -> float:
    """TTL from the env var (the one parsing rule of `langfuse_nb._settings`), else 60 s."""
    try:
        return float(env_setting(TTL_ENV_VAR, environ))
    except ValueError as exc:  # a prompt fetch must not fail over a mistyped variable
        logger.warning("Ignoring %s", exc)
        return DEFAULT_TTL_SECONDS


def cache_key(name: str, *, version: int | None = None, label: str | None = None) -> str:
    """``name-version:N`` / ``name-label:L`` (``production`` when neither is given), as the reference."""
    if version is not None:
        return f"{name}-version:{version}"
    return f"{name}-label:{label if label is not None else 'production'}"


@dataclass
class CacheEntry:
    value: Any
    expires_at: float

    def is_expired(self, now: float) -> bool:
        return now > self.expires_at


class PromptCache:
    """Thread-safe TTL map of prompt clients with de-duplicated background refreshes.

    ``clock`` is injectable (seconds, monotonic) so expiry is testable without sleeping.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, default_ttl: float | None = None):
        self._clock = clock
        self.default_ttl = default_ttl_seconds() if default_ttl is None else default_ttl
        self._entries: dict[str, CacheEntry] = {}
        self._lock = threading.Lock()
        self._refreshing: set[str] = set()
        self._worker: BatchWorker[tuple[str, Callable[[], Any]]] | None = None
        self._fetch_locks: dict[str, threading.Lock] = {}

    def get(self, key: str) -> CacheEntry | None:
        return self._entries.get(key)

    def fresh_value(self, key: str) -> Any:
        """The cached value when present and not expired, else None."""
        entry = self._entries.get(key)
        if entry is not None and self._clock() <= entry.expires_at:
            return entry.value
        return None

    def is_expired(self, entry: CacheEntry) -> bool:
        return entry.is_expired(self._clock())

    def set(self, key: str, value: Any, ttl_seconds: float | None = None) -> None:
        ttl = self.default_ttl if ttl_seconds is None else ttl_seconds
        self._entries[key] = CacheEntry(value, self._clock() + ttl)

    def delete(self, key: str) -> None:
        self._entries.pop(key, None)

    def invalidate(self, prompt_name: str) -> None:
        """Drop every key that starts with ``prompt_name`` (the reference's prefix rule)."""
        with self._lock:
            for key in [k for k in self._entries if k.startswith(prompt_name)]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def fetch_lock(self, key: str) -> threading.Lock:
        """The per-key lock that lets concurrent misses share one fetch."""
        with self._lock:
            return self._fetch_locks.setdefault(key, threading.Lock())

    def refresh_in_background(self, key: str, task: Callable[[], Any]) -> bool:
        """Queue ``task`` on the refresh worker unless a refresh of ``key`` is already pending."""
        with self._lock:
            if key in self._refreshing:
                return False
            self._refreshing.add(key)
            if self._worker is None:  # the thread starts with the first stale hit, not with the client
                self._worker = BatchWorker(
                    self._run_refreshes, max_batch=1, interval=1.0, name="langfuse-prompt-refresh"
                )
            worker = self._worker
        if not worker.put((key, task)):
            self._done(key)
            return False
        return True

    def _run_refreshes(self, batch: list[tuple[str, Callable[[], Any]]]) -> None:
        for key, task in batch:
            try:
                task()
            except Exception as exc:  # the stale value stays; the failure is only worth a warning
                logger.warning(
                    "Prompt cache refresh for '%s' failed, keeping the cached version: %s", key, exc
                )
            finally:
                self._done(key)

    def _done(self, key: str) -> None:
        with self._lock:
            self._refreshing.discard(key)

    def wait_for_refreshes(self, timeout: float | None = None) -> bool:
        """Wait until queued refreshes ran (tests, shutdown); False on timeout."""
        worker = self._worker
        return worker is None or worker.flush(timeout)


_caches: dict[tuple[str, str], PromptCache] = {}
_caches_lock = threading.Lock()


def shared_cache(base_url: str, public_key: str) -> PromptCache:
    """One cache per (server, public key), so a re-created client keeps its warm prompts."""
    with _caches_lock:
        cache = _caches.get((base_url, public_key))
        if cache is None:
            cache = _caches[(base_url, public_key)] = PromptCache()
        return cache
