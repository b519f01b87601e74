"""get_client(): the process-wide clients, one per public key, with the reference's selection rules."""

from __future__ import annotations

import logging
import threading
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langfuse_nb.sdk.client import Langfuse

logger = logging.getLogger("langfuse_nb")

# set by @observe(langfuse_public_key=...) for the call and the decorated calls nested in it
current_public_key: ContextVar[str | None] = ContextVar("langfuse_nb_public_key", default=None)

_instances: dict[str, Langfuse] = {}
_lock = threading.RLock()
# cached answer of get_client() without a key; reset whenever the set of clients changes
_default: Langfuse | None = None
_disabled: Langfuse | None = None


def registered_client(public_key: str) -> Langfuse | None:
    """The client already built for ``public_key``, or None (never builds one, never warns)."""
    return _instances.get(public_key)


def get_client(*, public_key: str | None = None) -> Langfuse:
    """The client for ``public_key``; without one, the only client (or a new default one).

    With several clients and no key a disabled client is returned so that no data leaks into the
    wrong project; an unknown key also gives a disabled client (with a warning), nothing else changes.
    """
    if public_key is None:
        public_key = current_public_key.get()
        if public_key is None:
            return _default or _resolve_default()
    found = _instances.get(public_key)
    if found is not None:
        return found
    logger.warning(  # the reference's text: users and log filters match on it
        f"No Langfuse client with public key {public_key} has been initialized. "
        "Skipping tracing for decorated function."
    )
    return disabled_client()


def _resolve_default() -> Langfuse:
    global _default
    with _lock:
        if _default is not None:
            return _default
        if len(_instances) > 1:
            logger.warning(
                "No 'langfuse_public_key' passed to decorated function, but multiple langfuse clients are "
                "instantiated in current process. Skipping tracing for this function to avoid cross-project "
                "leakage."
            )
            _default = disabled_client()
        elif _instances:
            _default = next(iter(_instances.values()))
        else:
            from langfuse_nb.sdk.client import Langfuse

            try:
                client = Langfuse()  # from the environment; registers itself when it has keys
            except Exception as exc:  # e.g. a malformed LANGFUSE_* variable: warn once, trace nothing
                logger.warning(
                    "langfuse_nb: could not create the default Langfuse client (%s); tracing is disabled", exc
                )
                client = disabled_client()
            _default = _default or client
        return _default


def disabled_client() -> Langfuse:
    """A shared no-op client that is never registered (so it cannot affect selection, F13)."""
    global _disabled
    if _disabled is None:
        from langfuse_nb.sdk.client import Langfuse

        _disabled = Langfuse._disabled_client()
    return _disabled


def register(client: Langfuse) -> None:
    global _default
    key = client._settings.public_key
    if not key:
        return
    with _lock:
        _instances[key] = client
        _default = None


def unregister(client: Langfuse) -> None:
    global _default
    key = client._settings.public_key
    with _lock:
        if key and _instances.get(key) is not None and _instances[key]._resources is client._resources:
            del _instances[key]
        _default = None


def _reset_for_tests() -> None:
    global _default
    with _lock:
        _instances.clear()
        _default = None
