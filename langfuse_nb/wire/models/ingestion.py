"""The legacy batch ingestion endpoint (`POST /api/public/ingestion`): events, bodies, response."""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

from pydantic import Field

from ._base import Datetime, SnakeModel, WireModel
from .observations import ObservationLevel, Usage
from .scores import CreateScoreValue, ScoreDataType


class ObservationType(str, enum.Enum):
    SPAN = "SPAN"
    GENERATION = "GENERATION"
    EVENT = "EVENT"
    AGENT = "AGENT"
    TOOL = "TOOL"
    CHAIN = "CHAIN"
    RETRIEVER = "RETRIEVER"
    EVALUATOR = "EVALUATOR"
    EMBEDDING = "EMBEDDING"
    GUARDRAIL = "GUARDRAIL"


class OpenAiUsage(WireModel):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None


class OpenAiCompletionUsageSchema(SnakeModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: dict[str, int | None] | None = None
    completion_tokens_details: dict[str, int | None] | None = None


class OpenAiResponseUsageSchema(SnakeModel):
    input_tokens: int
    output_tokens: int
    total_tokens: int
    input_tokens_details: dict[str, int | None] | None = None
    output_tokens_details: dict[str, int | None] | None = None


IngestionUsage = Usage | OpenAiUsage
UsageDetails = dict[str, int] | OpenAiCompletionUsageSchema | OpenAiResponseUsageSchema


class TraceBody(WireModel):
    id: str | None = None
    timestamp: Datetime | None = None
    name: str | None = None
    user_id: str | None = None
    input: Any = None
    output: Any = None
    session_id: str | None = None
    release: str | None = None
    version: str | None = None
    metadata: Any = None
    tags: list[str] | None = None
    environment: str | None = None
    public: bool | None = None


class OptionalObservationBody(WireModel):
    trace_id: str | None = None
    name: str | None = None
    start_time: Datetime | None = None
    metadata: Any = None
    input: Any = None
    output: Any = None
    level: ObservationLevel | None = None
    status_message: str | None = None
    parent_observation_id: str | None = None
    version: str | None = None
    environment: str | None = None


class CreateEventBody(OptionalObservationBody):
    id: str | None = None


class UpdateEventBody(OptionalObservationBody):
    id: str


class CreateSpanBody(CreateEventBody):
    end_time: Datetime | None = None


class UpdateSpanBody(UpdateEventBody):
    end_time: Datetime | None = None


class _GenerationFields(WireModel):
    completion_start_time: Datetime | None = None
    model: str | None = None
    model_parameters: dict[str, Any] | None = None
    usage: IngestionUsage | None = None
    usage_details: UsageDetails | None = None
    cost_details: dict[str, float] | None = None
    prompt_name: str | None = None
    prompt_version: int | None = None


class CreateGenerationBody(CreateSpanBody, _GenerationFields):
    pass


class UpdateGenerationBody(UpdateSpanBody, _GenerationFields):
    pass


class ObservationBody(WireModel):
    id: str | None = None
    trace_id: str | None = None
    type: ObservationType
    name: str | None = None
    start_time: Datetime | None = None
    end_time: Datetime | None = None
    completion_start_time: Datetime | None = None
    model: str | None = None
    model_parameters: dict[str, Any] | None = None
    input: Any = None
    version: str | None = None
    metadata: Any = None
    output: Any = None
    usage: Usage | None = None
    level: ObservationLevel | None = None
    status_message: str | None = None
    parent_observation_id: str | None = None
    environment: str | None = None


class ScoreBody(WireModel):
    id: str | None = None
    trace_id: str | None = None
    session_id: str | None = None
    observation_id: str | None = None
    dataset_run_id: str | None = None
    name: str
    environment: str | None = None
    queue_id: str | None = None
    value: CreateScoreValue
    comment: str | None = None
    metadata: Any = None
    data_type: ScoreDataType | None = None
    config_id: str | None = None


class SdkLogBody(WireModel):
    log: Any = None


class BaseEvent(WireModel):
    id: str
    timestamp: str
    metadata: Any = None


class TraceEvent(BaseEvent):
    body: TraceBody


class CreateSpanEvent(BaseEvent):
    body: CreateSpanBody


class UpdateSpanEvent(BaseEvent):
    body: UpdateSpanBody


class CreateGenerationEvent(BaseEvent):
    body: CreateGenerationBody


class UpdateGenerationEvent(BaseEvent):
    body: UpdateGenerationBody


class CreateEventEvent(BaseEvent):
    body: CreateEventBody


class ScoreEvent(BaseEvent):
    body: ScoreBody


class SdkLogEvent(BaseEvent):
    body: SdkLogBody


class CreateObservationEvent(BaseEvent):
    body: ObservationBody


class UpdateObservationEvent(BaseEvent):
    body: ObservationBody


class IngestionEvent_TraceCreate(TraceEvent):
    type: Literal["trace-create"] = "trace-create"


class IngestionEvent_ScoreCreate(ScoreEvent):
    type: Literal["score-create"] = "score-create"


class IngestionEvent_SpanCreate(CreateSpanEvent):
    type: Literal["span-create"] = "span-create"


class IngestionEvent_SpanUpdate(UpdateSpanEvent):
    type: Literal["span-update"] = "span-update"


class IngestionEvent_GenerationCreate(CreateGenerationEvent):
    type: Literal["generation-create"] = "generation-create"


class IngestionEvent_GenerationUpdate(UpdateGenerationEvent):
    type: Literal["generation-update"] = "generation-update"


class IngestionEvent_EventCreate(CreateEventEvent):
    type: Literal["event-create"] = "event-create"


class IngestionEvent_SdkLog(SdkLogEvent):
    type: Literal["sdk-log"] = "sdk-log"


class IngestionEvent_ObservationCreate(CreateObservationEvent):
    type: Literal["observation-create"] = "observation-create"


class IngestionEvent_ObservationUpdate(UpdateObservationEvent):
    type: Literal["observation-update"] = "observation-update"


IngestionEvent = Annotated[
    IngestionEvent_TraceCreate
    | IngestionEvent_ScoreCreate
    | IngestionEvent_SpanCreate
    | IngestionEvent_SpanUpdate
    | IngestionEvent_GenerationCreate
    | IngestionEvent_GenerationUpdate
    | IngestionEvent_EventCreate
    | IngestionEvent_SdkLog
    | IngestionEvent_ObservationCreate
    | IngestionEvent_ObservationUpdate,
    Field(discriminator="type"),
]


class IngestionSuccess(WireModel):
    id: str
    status: int


class IngestionError(WireModel):
    id: str
    status: int
    message: str | None = None
    error: Any = None


class IngestionResponse(WireModel):
    successes: list[IngestionSuccess]
    errors: list[IngestionError]


__all__ = [
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
]
