"""Resource clients, one module per resource group, each imported on first use.

`RESOURCE_TABLE` maps a client attribute (``api.prompts``) to its module and its sync and async class
names; `RESOURCES` (attribute -> (sync class, async class)) is built from it when first read and imports
every module. A resource module imports the API models it answers with, so importing only the module a
call needs keeps the first REST call of a process from building every model of the API.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .datasets import (
        AsyncDatasetItemsClient,
        AsyncDatasetRunItemsClient,
        AsyncDatasetsClient,
        DatasetItemsClient,
        DatasetRunItemsClient,
        DatasetsClient,
    )
    from .health import AsyncHealthClient, HealthClient
    from .media import AsyncIngestionClient, AsyncMediaClient, IngestionClient, MediaClient
    from .models import AsyncModelsClient, ModelsClient
    from .observations import AsyncObservationsClient, ObservationsClient
    from .projects import AsyncProjectsClient, ProjectsClient
    from .prompts import AsyncPromptsClient, AsyncPromptVersionClient, PromptsClient, PromptVersionClient
    from .score import AsyncScoreClient, AsyncScoreV2Client, ScoreClient, ScoreV2Client
    from .score_configs import AsyncScoreConfigsClient, ScoreConfigsClient
    from .sessions import AsyncSessionsClient, SessionsClient
    from .trace import AsyncTraceClient, TraceClient

    RESOURCES: dict[str, tuple[type, type]]

# client attribute -> (module, sync class, async class)
RESOURCE_TABLE: dict[str, tuple[str, str, str]] = {
    "health": ("health", "HealthClient", "AsyncHealthClient"),
    "projects": ("projects", "ProjectsClient", "AsyncProjectsClient"),
    "trace": ("trace", "TraceClient", "AsyncTraceClient"),
    "observations": ("observations", "ObservationsClient", "AsyncObservationsClient"),
    "score": ("score", "ScoreClient", "AsyncScoreClient"),
    "score_v_2": ("score", "ScoreV2Client", "AsyncScoreV2Client"),
    "score_configs": ("score_configs", "ScoreConfigsClient", "AsyncScoreConfigsClient"),
    "sessions": ("sessions", "SessionsClient", "AsyncSessionsClient"),
    "prompts": ("prompts", "PromptsClient", "AsyncPromptsClient"),
    "prompt_version": ("prompts", "PromptVersionClient", "AsyncPromptVersionClient"),
    "datasets": ("datasets", "DatasetsClient", "AsyncDatasetsClient"),
    "dataset_items": ("datasets", "DatasetItemsClient", "AsyncDatasetItemsClient"),
    "dataset_run_items": ("datasets", "DatasetRunItemsClient", "AsyncDatasetRunItemsClient"),
    "media": ("media", "MediaClient", "AsyncMediaClient"),
    "models": ("models", "ModelsClient", "AsyncModelsClient"),
    "ingestion": ("media", "IngestionClient", "AsyncIngestionClient"),
}

# class name -> its module
_OWNER: dict[str, str] = {
    cls: module for module, sync, asyn in RESOURCE_TABLE.values() for cls in (sync, asyn)
}


def resource_class(attribute: str, *, asynchronous: bool) -> type:
    """The client class behind ``api.<attribute>`` (imports its module only)."""
    module, sync, asyn = RESOURCE_TABLE[attribute]
    return getattr(importlib.import_module(f"{__name__}.{module}"), asyn if asynchronous else sync)  # type: ignore[no-any-return]


def __getattr__(name: str) -> Any:
    if name == "RESOURCES":
        table = {
            attr: (resource_class(attr, asynchronous=False), resource_class(attr, asynchronous=True))
            for attr in RESOURCE_TABLE
        }
        globals()["RESOURCES"] = table
        return table
    module = _OWNER.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next lookup is a plain attribute read
    return value


__all__ = [  # a literal list, so linters see the lazily served names
    "RESOURCES",
    "AsyncDatasetItemsClient",
    "AsyncDatasetRunItemsClient",
    "AsyncDatasetsClient",
    "AsyncHealthClient",
    "AsyncIngestionClient",
    "AsyncMediaClient",
    "AsyncModelsClient",
    "AsyncObservationsClient",
    "AsyncProjectsClient",
    "AsyncPromptVersionClient",
    "AsyncPromptsClient",
    "AsyncScoreClient",
    "AsyncScoreConfigsClient",
    "AsyncScoreV2Client",
    "AsyncSessionsClient",
    "AsyncTraceClient",
    "DatasetItemsClient",
    "DatasetRunItemsClient",
    "DatasetsClient",
    "HealthClient",
    "IngestionClient",
    "MediaClient",
    "ModelsClient",
    "ObservationsClient",
    "ProjectsClient",
    "PromptVersionClient",
    "PromptsClient",
    "ScoreClient",
    "ScoreConfigsClient",
    "ScoreV2Client",
    "SessionsClient",
    "TraceClient",
]
