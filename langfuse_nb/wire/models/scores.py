"""Scores: read models (v1 inside traces, v2 list), create request/response, score configs."""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

from pydantic import Field

from ._base import Datetime, WireModel
from .utils import MetaResponse


class ScoreSource(str, enum.Enum):
    ANNOTATION = "ANNOTATION"
    API = "API"
    EVAL = "EVAL"


class ScoreDataType(str, enum.Enum):
    NUMERIC = "NUMERIC"
    BOOLEAN = "BOOLEAN"
    CATEGORICAL = "CATEGORICAL"


CreateScoreValue = float | str


class _ScoreFields(WireModel):
    id: str
    name: str
    source: ScoreSource
    observation_id: str | None = None
    timestamp: Datetime
    created_at: Datetime
    updated_at: Datetime
    author_user_id: str | None = None
    comment: str | None = None
    metadata: Any = None
    config_id: str | None = None
    queue_id: str | None = None
    environment: str | None = None


class BaseScoreV1(_ScoreFields):
    trace_id: str


class BaseScore(_ScoreFields):
    trace_id: str | None = None
    session_id: str | None = None
    dataset_run_id: str | None = None


class NumericScoreV1(BaseScoreV1):
    value: float


class CategoricalScoreV1(BaseScoreV1):
    value: float
    string_value: str


class BooleanScoreV1(CategoricalScoreV1):
    pass


class NumericScore(BaseScore):
    value: float


class CategoricalScore(BaseScore):
    value: float
    string_value: str


class BooleanScore(CategoricalScore):
    pass


class ScoreV1_Numeric(NumericScoreV1):
    data_type: Literal["NUMERIC"] = "NUMERIC"


class ScoreV1_Categorical(CategoricalScoreV1):
    data_type: Literal["CATEGORICAL"] = "CATEGORICAL"


class ScoreV1_Boolean(BooleanScoreV1):
    data_type: Literal["BOOLEAN"] = "BOOLEAN"


class Score_Numeric(NumericScore):
    data_type: Literal["NUMERIC"] = "NUMERIC"


class Score_Categorical(CategoricalScore):
    data_type: Literal["CATEGORICAL"] = "CATEGORICAL"


class Score_Boolean(BooleanScore):
    data_type: Literal["BOOLEAN"] = "BOOLEAN"


ScoreV1 = Annotated[ScoreV1_Numeric | ScoreV1_Categorical | ScoreV1_Boolean, Field(discriminator="data_type")]
Score = Annotated[Score_Numeric | Score_Categorical | Score_Boolean, Field(discriminator="data_type")]


class GetScoresResponseTraceData(WireModel):
    user_id: str | None = None
    tags: list[str] | None = None
    environment: str | None = None


class GetScoresResponseDataNumeric(NumericScore):
    trace: GetScoresResponseTraceData | None = None


class GetScoresResponseDataCategorical(CategoricalScore):
    trace: GetScoresResponseTraceData | None = None


class GetScoresResponseDataBoolean(BooleanScore):
    trace: GetScoresResponseTraceData | None = None


class GetScoresResponseData_Numeric(GetScoresResponseDataNumeric):
    data_type: Literal["NUMERIC"] = "NUMERIC"


class GetScoresResponseData_Categorical(GetScoresResponseDataCategorical):
    data_type: Literal["CATEGORICAL"] = "CATEGORICAL"


class GetScoresResponseData_Boolean(GetScoresResponseDataBoolean):
    data_type: Literal["BOOLEAN"] = "BOOLEAN"


GetScoresResponseData = Annotated[
    GetScoresResponseData_Numeric | GetScoresResponseData_Categorical | GetScoresResponseData_Boolean,
    Field(discriminator="data_type"),
]


class GetScoresResponse(WireModel):
    data: list[GetScoresResponseData]
    meta: MetaResponse


class CreateScoreRequest(WireModel):
    id: str | None = None
    trace_id: str | None = None
    session_id: str | None = None
    observation_id: str | None = None
    dataset_run_id: str | None = None
    name: str
    value: CreateScoreValue
    comment: str | None = None
    metadata: dict[str, Any] | None = None
    environment: str | None = None
    queue_id: str | None = None
    data_type: ScoreDataType | None = None
    config_id: str | None = None


class CreateScoreResponse(WireModel):
    id: str


class ConfigCategory(WireModel):
    value: float
    label: str


class ScoreConfig(WireModel):
    id: str
    name: str
    created_at: Datetime
    updated_at: Datetime
    project_id: str
    data_type: ScoreDataType
    is_archived: bool
    min_value: float | None = None
    max_value: float | None = None
    categories: list[ConfigCategory] | None = None
    description: str | None = None


class ScoreConfigs(WireModel):
    data: list[ScoreConfig]
    meta: MetaResponse


class CreateScoreConfigRequest(WireModel):
    name: str
    data_type: ScoreDataType
    categories: list[ConfigCategory] | None = None
    min_value: float | None = None
    max_value: float | None = None
    description: str | None = None


class UpdateScoreConfigRequest(WireModel):
    is_archived: bool | None = None
    name: str | None = None
    categories: list[ConfigCategory] | None = None
    min_value: float | None = None
    max_value: float | None = None
    description: str | None = None


__all__ = [
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
]
