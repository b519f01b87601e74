"""The Jupyter layer: ``%load_ext langfuse_nb`` magics, inline trace views, widgets and result views."""

from __future__ import annotations

from typing import Any

__all__ = [
    "compare_experiments",
    "last_trace_id",
    "load_ipython_extension",
    "scores_table",
    "unload_ipython_extension",
]


def load_ipython_extension(ipython: Any) -> None:
    from langfuse_nb.notebook.extension import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from langfuse_nb.notebook.extension import unload_ipython_extension as unload

    unload(ipython)


def last_trace_id() -> str | None:
    """Trace id of the last ``%%langfuse_trace`` cell of this kernel (None before the first)."""
    from IPython import get_ipython

    from langfuse_nb.notebook.extension import _LOADED

    magics = _LOADED.get(id(get_ipython()))
    return magics.last_trace_id if magics is not None else None


def compare_experiments(a: Any, b: Any) -> Any:
    """Per-item outputs and score deltas (B - A) of two experiment runs; see ``ExperimentComparison``."""
    from langfuse_nb.notebook.compare import compare_experiments as compare

    return compare(a, b)


def scores_table(client: Any = None, *, limit: int = 50, **filters: Any) -> Any:
    """Recent scores (filters: trace_id=, name=, session_id=, ...) as a ``ScoresTable``."""
    from langfuse_nb.notebook.scores import scores_table as fetch

    return fetch(client, limit=limit, **filters)
