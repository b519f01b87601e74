"""Pydantic models of the Langfuse public API, one module per resource, loaded on first use.

``from langfuse_nb.wire.models import Prompt`` imports only the module that defines ``Prompt`` (and what
that module needs): building every model of the API costs hundreds of milliseconds, and a client that
only fetches a prompt should not pay for the ingestion or score models. Type checkers see plain star
imports (the ``TYPE_CHECKING`` block); at runtime the module ``__getattr__`` resolves a name through
`_MODULE_NAMES` and keeps it as a module global, so the next lookup is a plain attribute read.
`tests/core/test_wire_models_lazy.py` checks that the table lists exactly each module's ``__all__``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._base import *  # noqa: F403
    from .datasets import *  # noqa: F403
    from .health import *  # noqa: F403
    from .ingestion import *  # noqa: F403
    from .media import *  # noqa: F403
    from .models import (  # not `*`: its ModelUsageUnit is shadowed by observations' (see below)
        CreateModelRequest as CreateModelRequest,
    )
    from .models import (
        Model as Model,
    )
    from .models import (
        ModelPrice as ModelPrice,
    )
    from .models import (
        PaginatedModels as PaginatedModels,
    )
    from .models import (
        PricingTier as PricingTier,
    )
    from .models import (
        PricingTierCondition as PricingTierCondition,
    )
    from .models import (
        PricingTierInput as PricingTierInput,
    )
    from .models import (
        PricingTierOperator as PricingTierOperator,
    )
    from .observations import *  # noqa: F403
    from .projects import *  # noqa: F403
    from .prompts import *  # noqa: F403
    from .scores import *  # noqa: F403
    from .sessions import *  # noqa: F403
    from .trace import *  # noqa: F403
    from .utils import *  # noqa: F403

# submodule -> the public names it serves (`ModelUsageUnit`, defined twice, is served from observations
# as the star imports did before)
_MODULE_NAMES: dict[str, tuple[str, ...]] = {
    "_base": ("Datetime", "SnakeModel", "WireModel", "serialize_datetime"),
    "datasets": (
        "CreateDatasetItemRequest",
        "CreateDatasetRequest",
        "CreateDatasetRunItemRequest",
        "Dataset",
        "DatasetItem",
        "DatasetRun",
        "DatasetRunItem",
        "DatasetRunWithItems",
        "DatasetStatus",
        "DeleteDatasetItemResponse",
        "DeleteDatasetRunResponse",
        "PaginatedDatasetItems",
        "PaginatedDatasetRunItems",
        "PaginatedDatasetRuns",
        "PaginatedDatasets",
    ),
    "health": ("HealthResponse",),
    "ingestion": (
        "BaseEvent",
        "CreateEventBody",
        "CreateEventEvent",
        "CreateGenerationBody",
        "CreateGenerationEvent",
        "CreateObservationEvent",
        "CreateSpanBody",
        "CreateSpanEvent",
        "IngestionError",
        "IngestionEvent",
        "IngestionEvent_EventCreate",
        "IngestionEvent_GenerationCreate",
        "IngestionEvent_GenerationUpdate",
        "IngestionEvent_ObservationCreate",
        "IngestionEvent_ObservationUpdate",
        "IngestionEvent_ScoreCreate",
        "IngestionEvent_SdkLog",
        "IngestionEvent_SpanCreate",
        "IngestionEvent_SpanUpdate",
        "IngestionEvent_TraceCreate",
        "IngestionResponse",
        "IngestionSuccess",
        "IngestionUsage",
        "ObservationBody",
        "ObservationType",
        "OpenAiCompletionUsageSchema",
        "OpenAiResponseUsageSchema",
        "OpenAiUsage",
        "OptionalObservationBody",
        "ScoreBody",
        "ScoreEvent",
        "SdkLogBody",
        "SdkLogEvent",
        "TraceBody",
        "TraceEvent",
        "UpdateEventBody",
        "UpdateGenerationBody",
        "UpdateGenerationEvent",
        "UpdateObservationEvent",
        "UpdateSpanBody",
        "UpdateSpanEvent",
        "UsageDetails",
    ),
    "media": (
        "GetMediaResponse",
        "GetMediaUploadUrlRequest",
        "GetMediaUploadUrlResponse",
        "MediaContentType",
        "PatchMediaBody",
    ),
    "models": (
        "CreateModelRequest",
        "Model",
        "ModelPrice",
        "PaginatedModels",
        "PricingTier",
        "PricingTierCondition",
        "PricingTierInput",
        "PricingTierOperator",
    ),
    "observations": (
        "ModelUsageUnit",
        "Observation",
        "ObservationLevel",
        "Observations",
        "ObservationsView",
        "ObservationsViews",
        "Usage",
    ),
    "projects": (
        "ApiKeyDeletionResponse",
        "ApiKeyList",
        "ApiKeyResponse",
        "ApiKeySummary",
        "Project",
        "ProjectDeletionResponse",
        "Projects",
    ),
    "prompts": (
        "BasePrompt",
        "ChatMessage",
        "ChatMessageWithPlaceholders",
        "ChatMessageWithPlaceholders_Chatmessage",
        "ChatMessageWithPlaceholders_Placeholder",
        "ChatPrompt",
        "CreateChatPromptRequest",
        "CreatePromptRequest",
        "CreatePromptRequest_Chat",
        "CreatePromptRequest_Text",
        "CreateTextPromptRequest",
        "PlaceholderMessage",
        "Prompt",
        "PromptMeta",
        "PromptMetaListResponse",
        "PromptType",
        "Prompt_Chat",
        "Prompt_Text",
        "TextPrompt",
    ),
    "scores": (
        "BaseScore",
        "BaseScoreV1",
        "BooleanScore",
        "BooleanScoreV1",
        "CategoricalScore",
        "CategoricalScoreV1",
        "ConfigCategory",
        "CreateScoreConfigRequest",
        "CreateScoreRequest",
        "CreateScoreResponse",
        "CreateScoreValue",
        "GetScoresResponse",
        "GetScoresResponseData",
        "GetScoresResponseDataBoolean",
        "GetScoresResponseDataCategorical",
        "GetScoresResponseDataNumeric",
        "GetScoresResponseData_Boolean",
        "GetScoresResponseData_Categorical",
        "GetScoresResponseData_Numeric",
        "GetScoresResponseTraceData",
        "NumericScore",
        "NumericScoreV1",
        "Score",
        "ScoreConfig",
        "ScoreConfigs",
        "ScoreDataType",
        "ScoreSource",
        "ScoreV1",
        "ScoreV1_Boolean",
        "ScoreV1_Categorical",
        "ScoreV1_Numeric",
        "Score_Boolean",
        "Score_Categorical",
        "Score_Numeric",
        "UpdateScoreConfigRequest",
    ),
    "sessions": ("PaginatedSessions", "Session", "SessionWithTraces"),
    "trace": ("DeleteTraceResponse", "Sort", "Trace", "TraceWithDetails", "TraceWithFullDetails", "Traces"),
    "utils": ("MapValue", "MetaResponse"),
}

_OWNER: dict[str, str] = {name: module for module, names in _MODULE_NAMES.items() for name in names}

__all__ = sorted(_OWNER)


def __getattr__(name: str) -> Any:
    if name in _MODULE_NAMES:  # `models.scores` worked when every submodule was imported eagerly
        return importlib.import_module(f"{__name__}.{name}")
    module = _OWNER.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
