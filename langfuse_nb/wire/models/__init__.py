"""Pydantic models of the Langfuse public API, one module per resource."""

from __future__ import annotations

from . import (
    _base,
    datasets,
    health,
    ingestion,
    media,
    models,
    observations,
    projects,
    prompts,
    scores,
    sessions,
    trace,
    utils,
)
from ._base import *  # noqa: F403
from .datasets import *  # noqa: F403
from .health import *  # noqa: F403
from .ingestion import *  # noqa: F403
from .media import *  # noqa: F403
from .models import *  # noqa: F403
from .observations import *  # noqa: F403
from .projects import *  # noqa: F403
from .prompts import *  # noqa: F403
from .scores import *  # noqa: F403
from .sessions import *  # noqa: F403
from .trace import *  # noqa: F403
from .utils import *  # noqa: F403

__all__ = sorted(
    {
        name
        for module in (
            datasets,
            health,
            ingestion,
            media,
            models,
            observations,
            projects,
            prompts,
            scores,
            sessions,
            trace,
            utils,
            _base,
        )
        for name in module.__all__
    }
)
