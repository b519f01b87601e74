"""Datasets, dataset items, dataset runs and run items."""

from __future__ import annotations

import enum
from typing import Any

from ._base import Datetime, WireModel
from .utils import MetaResponse


class DatasetStatus(str, enum.Enum):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"


class Dataset(WireModel):
    id: str
    name: str
    description: str | None = None
    metadata: Any = None
    input_schema: Any = None
    expected_output_schema: Any = None
    project_id: str
    created_at: Datetime
    updated_at: Datetime


class DatasetItem(WireModel):
    id: str
    status: DatasetStatus
    input: Any = None
    expected_output: Any = None
    metadata: Any = None
    source_trace_id: str | None = None
    source_observation_id: str | None = None
    dataset_id: str
    dataset_name: str
    created_at: Datetime
    updated_at: Datetime


class DatasetRunItem(WireModel):
    id: str
    dataset_run_id: str
    dataset_run_name: str
    dataset_item_id: str
    trace_id: str
    observation_id: str | None = None
    created_at: Datetime
    updated_at: Datetime


class DatasetRun(WireModel):
    id: str
    name: str
    description: str | None = None
    metadata: Any = None
    dataset_id: str
    dataset_name: str
    created_at: Datetime
    updated_at: Datetime


class DatasetRunWithItems(DatasetRun):
    dataset_run_items: list[DatasetRunItem]


class CreateDatasetRequest(WireModel):
    name: str
    description: str | None = None
    metadata: Any = None
    input_schema: Any = None
    expected_output_schema: Any = None


class CreateDatasetItemRequest(WireModel):
    dataset_name: str
    input: Any = None
    expected_output: Any = None
    metadata: Any = None
    source_trace_id: str | None = None
    source_observation_id: str | None = None
    id: str | None = None
    status: DatasetStatus | None = None


class CreateDatasetRunItemRequest(WireModel):
    run_name: str
    run_description: str | None = None
    metadata: Any = None
    dataset_item_id: str
    observation_id: str | None = None
    trace_id: str | None = None


class PaginatedDatasets(WireModel):
    data: list[Dataset]
    meta: MetaResponse


class PaginatedDatasetItems(WireModel):
    data: list[DatasetItem]
    meta: MetaResponse


class PaginatedDatasetRuns(WireModel):
    data: list[DatasetRun]
    meta: MetaResponse


class PaginatedDatasetRunItems(WireModel):
    data: list[DatasetRunItem]
    meta: MetaResponse


class DeleteDatasetRunResponse(WireModel):
    message: str


class DeleteDatasetItemResponse(WireModel):
    message: str


__all__ = [
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
]
