"""Resource clients, one module per resource group; `RESOURCES` maps attribute name -> (sync, async)."""

from __future__ import annotations

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

RESOURCES: dict[str, tuple[type, type]] = {
    "health": (HealthClient, AsyncHealthClient),
    "projects": (ProjectsClient, AsyncProjectsClient),
    "trace": (TraceClient, AsyncTraceClient),
    "observations": (ObservationsClient, AsyncObservationsClient),
    "score": (ScoreClient, AsyncScoreClient),
    "score_v_2": (ScoreV2Client, AsyncScoreV2Client),
    "score_configs": (ScoreConfigsClient, AsyncScoreConfigsClient),
    "sessions": (SessionsClient, AsyncSessionsClient),
    "prompts": (PromptsClient, AsyncPromptsClient),
    "prompt_version": (PromptVersionClient, AsyncPromptVersionClient),
    "datasets": (DatasetsClient, AsyncDatasetsClient),
    "dataset_items": (DatasetItemsClient, AsyncDatasetItemsClient),
    "dataset_run_items": (DatasetRunItemsClient, AsyncDatasetRunItemsClient),
    "media": (MediaClient, AsyncMediaClient),
    "models": (ModelsClient, AsyncModelsClient),
    "ingestion": (IngestionClient, AsyncIngestionClient),
}

__all__ = [
    "RESOURCES",
    *sorted(name for pair in RESOURCES.values() for name in (pair[0].__name__, pair[1].__name__)),
]
