"""The package logger, which also answers to the reference SDK's logger name.

Users of the reference SDK configure ``logging.getLogger("langfuse")`` (the reference's
``langfuse.logger.langfuse_logger``): set its level, add a handler, or turn off propagation. Our records go
to ``logging.getLogger("langfuse_nb")``; this module makes ``"langfuse"`` that logger's parent, so all of
that configuration applies to our records too, while ``"langfuse_nb"`` stays configurable on its own.
"""

from __future__ import annotations

import logging

__all__ = ["LOGGER_NAME", "REFERENCE_LOGGER_NAME", "langfuse_logger"]

LOGGER_NAME = "langfuse_nb"
REFERENCE_LOGGER_NAME = "langfuse"

langfuse_logger = logging.getLogger(LOGGER_NAME)


def link_to_reference_logger() -> None:
    """Parent our logger under ``"langfuse"`` (idempotent).

    "langfuse_nb" is not a dotted child of "langfuse", so logging's hierarchy would hang it straight off the
    root logger. With "langfuse" as parent, the effective level (when ours is unset), handlers and
    ``propagate`` of "langfuse" govern our records; records still reach the root logger after that.
    """
    parent = logging.getLogger(REFERENCE_LOGGER_NAME)
    if langfuse_logger.parent is not parent:
        langfuse_logger.parent = parent
        # cached isEnabledFor answers assumed root as the parent (private helper; absent means no cache)
        getattr(logging.Logger.manager, "_clear_cache", lambda: None)()


link_to_reference_logger()
