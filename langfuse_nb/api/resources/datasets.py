"""``api.datasets``, ``api.dataset_items`` and ``api.dataset_run_items``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langfuse_nb.wire.models import (
    CreateDatasetItemRequest,
    CreateDatasetRequest,
    CreateDatasetRunItemRequest,
    Dataset,
    DatasetItem,
    DatasetRunItem,
    DatasetRunWithItems,
    DeleteDatasetItemResponse,
    DeleteDatasetRunResponse,
    PaginatedDatasetItems,
    PaginatedDatasetRunItems,
    PaginatedDatasetRuns,
    PaginatedDatasets,
)

from .._resource import AsyncResource, SyncResource, endpoint
from .._spec import Request, RequestOptions, as_body, path

_RUN = "api/public/datasets/{}/runs/{}"


class _Datasets:
    @endpoint
    def list(
        self,
        *,
        page: int | None = None,
        limit: int | None = None,
        request_options: RequestOptions | None = None,
    ) -> Request[PaginatedDatasets]:
        query = {"page": page, "limit": limit}
        return Request(
            "GET", "api/public/v2/datasets", query=query, response=PaginatedDatasets, options=request_options
        )

    @endpoint
    def get(self, dataset_name: str, *, request_options: RequestOptions | None = None) -> Request[Dataset]:
        url = path("api/public/v2/datasets/{}", dataset_name)
        return Request("GET", url, response=Dataset, options=request_options)

    @endpoint
    def create(
        self,
        *,
        request: CreateDatasetRequest | Mapping[str, Any],
        request_options: RequestOptions | None = None,
    ) -> Request[Dataset]:
        """Create (upstream: upsert by name) a dataset."""
        body = as_body(request, CreateDatasetRequest)
        return Request("POST", "api/public/v2/datasets", body=body, response=Dataset, options=request_options)

    @endpoint
    def get_run(
        self, dataset_name: str, run_name: str, *, request_options: RequestOptions | None = None
    ) -> Request[DatasetRunWithItems]:
        url = path(_RUN, dataset_name, run_name)
        return Request("GET", url, response=DatasetRunWithItems, options=request_options)

    @endpoint
    def delete_run(
        self, dataset_name: str, run_name: str, *, request_options: RequestOptions | None = None
    ) -> Request[DeleteDatasetRunResponse]:
        url = path(_RUN, dataset_name, run_name)
        return Request("DELETE", url, response=DeleteDatasetRunResponse, options=request_options)

    @endpoint
    def get_runs(
        self,
        dataset_name: str,
        *,
        page: int | None = None,
        limit: int | None = None,
        request_options: RequestOptions | None = None,
    ) -> Request[PaginatedDatasetRuns]:
        url = path("api/public/datasets/{}/runs", dataset_name)
        query = {"page": page, "limit": limit}
        return Request("GET", url, query=query, response=PaginatedDatasetRuns, options=request_options)


class _DatasetItems:
    @endpoint
    def create(
        self,
        *,
        request: CreateDatasetItemRequest | Mapping[str, Any],
        request_options: RequestOptions | None = None,
    ) -> Request[DatasetItem]:
        """Create (upstream: upsert by id) a dataset item."""
        body = as_body(request, CreateDatasetItemRequest)
        return Request(
            "POST", "api/public/dataset-items", body=body, response=DatasetItem, options=request_options
        )

    @endpoint
    def get(self, id: str, *, request_options: RequestOptions | None = None) -> Request[DatasetItem]:
        url = path("api/public/dataset-items/{}", id)
        return Request("GET", url, response=DatasetItem, options=request_options)

    @endpoint
    def list(
        self,
        *,
        dataset_name: str | None = None,
        source_trace_id: str | None = None,
        source_observation_id: str | None = None,
        page: int | None = None,
        limit: int | None = None,
        request_options: RequestOptions | None = None,
    ) -> Request[PaginatedDatasetItems]:
        query = {
            "datasetName": dataset_name,
            "sourceTraceId": source_trace_id,
            "sourceObservationId": source_observation_id,
            "page": page,
            "limit": limit,
        }
        return Request(
            "GET",
            "api/public/dataset-items",
            query=query,
            response=PaginatedDatasetItems,
            options=request_options,
        )

    @endpoint
    def delete(
        self, id: str, *, request_options: RequestOptions | None = None
    ) -> Request[DeleteDatasetItemResponse]:
        url = path("api/public/dataset-items/{}", id)
        return Request("DELETE", url, response=DeleteDatasetItemResponse, options=request_options)


class _DatasetRunItems:
    @endpoint
    def create(
        self,
        *,
        request: CreateDatasetRunItemRequest | Mapping[str, Any],
        request_options: RequestOptions | None = None,
    ) -> Request[DatasetRunItem]:
        """Link a trace to a dataset item in a run (the run is created by name if needed)."""
        body = as_body(request, CreateDatasetRunItemRequest)
        return Request(
            "POST",
            "api/public/dataset-run-items",
            body=body,
            response=DatasetRunItem,
            options=request_options,
        )

    @endpoint
    def list(
        self,
        *,
        dataset_id: str,
        run_name: str,
        page: int | None = None,
        limit: int | None = None,
        request_options: RequestOptions | None = None,
    ) -> Request[PaginatedDatasetRunItems]:
        query = {"datasetId": dataset_id, "runName": run_name, "page": page, "limit": limit}
        return Request(
            "GET",
            "api/public/dataset-run-items",
            query=query,
            response=PaginatedDatasetRunItems,
            options=request_options,
        )


class DatasetsClient(_Datasets, SyncResource):
    pass


class AsyncDatasetsClient(_Datasets, AsyncResource):
    pass


class DatasetItemsClient(_DatasetItems, SyncResource):
    pass


class AsyncDatasetItemsClient(_DatasetItems, AsyncResource):
    pass


class DatasetRunItemsClient(_DatasetRunItems, SyncResource):
    pass


class AsyncDatasetRunItemsClient(_DatasetRunItems, AsyncResource):
    pass
