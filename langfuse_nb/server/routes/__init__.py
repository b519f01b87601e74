"""The route table: every module contributes a list of ``Route`` entries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    endpoint: Callable[..., Any]


def all_routes() -> list[Route]:
    """Routes in registration order (specific paths before catch-alls)."""
    from langfuse_nb.server.routes import (
        datasets,
        health,
        ingestion,
        media,
        models,
        observations,
        observations_v2,
        otel,
        pages,
        prompts,
        score_configs,
        scores,
        sessions,
        traces,
    )

    modules = (
        health,
        otel,
        ingestion,
        traces,
        observations,
        observations_v2,
        scores,
        score_configs,
        sessions,
        prompts,
        datasets,
        media,
        models,
        pages,
    )
    from langfuse_nb.server.routes.project_alias import with_project_alias

    return [with_project_alias(route) for module in modules for route in module.ROUTES]
