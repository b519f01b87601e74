"""In-process span listeners (the notebook's inline trace view renders from these)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("langfuse_nb")

SpanListener = Callable[[Any], None]
# A tuple, replaced on change: readers iterate without a lock and pay nothing when empty.
_listeners: tuple[SpanListener, ...] = ()


def add_span_listener(callback: SpanListener) -> None:
    """Call ``callback(readable_span)`` for every ended, exported span of this process."""
    global _listeners
    if callback not in _listeners:
        _listeners = (*_listeners, callback)


def remove_span_listener(callback: SpanListener) -> None:
    global _listeners
    _listeners = tuple(cb for cb in _listeners if cb != callback)


def has_listeners() -> bool:
    return bool(_listeners)


def emit(span: Any) -> None:
    """Deliver one ended span to every listener; a failing listener never breaks tracing."""
    for callback in _listeners:
        try:
            callback(span)
        except Exception:
            logger.debug("langfuse_nb: span listener failed", exc_info=True)
