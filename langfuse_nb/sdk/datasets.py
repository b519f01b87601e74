"""Datasets: create datasets and items, fetch a dataset with all its items, run experiments on it."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langfuse_nb.api import LangfuseAPI
    from langfuse_nb.sdk.experiments.results import ExperimentResult
    from langfuse_nb.wire.models import Dataset, DatasetItem

logger = logging.getLogger("langfuse_nb")

DEFAULT_PAGE_SIZE = 50


def _get(source: Any, name: str, camel: str | None = None) -> Any:
    """Read a field from an API model (snake_case attribute) or a plain camelCase/snake_case dict."""
    if isinstance(source, dict):
        return source.get(name, source.get(camel) if camel else None)
    return getattr(source, name, None)


class DatasetItemClient:
    """One dataset item, with the client that fetched it (used by ``run()`` and experiments)."""

    id: str
    status: Any
    input: Any
    expected_output: Any
    metadata: Any
    source_trace_id: str | None
    source_observation_id: str | None
    dataset_id: str
    dataset_name: str
    created_at: dt.datetime
    updated_at: dt.datetime

    _FIELDS = {
        "id": None,
        "status": None,
        "input": None,
        "expected_output": "expectedOutput",
        "metadata": None,
        "source_trace_id": "sourceTraceId",
        "source_observation_id": "sourceObservationId",
        "dataset_id": "datasetId",
        "dataset_name": "datasetName",
        "created_at": "createdAt",
        "updated_at": "updatedAt",
    }

    def __init__(self, dataset_item: Any, langfuse: Any) -> None:
        for name, camel in self._FIELDS.items():
            setattr(self, name, _get(dataset_item, name, camel))
        self.langfuse = langfuse

    def __repr__(self) -> str:
        return (
            f"DatasetItemClient(id={self.id!r}, dataset_name={self.dataset_name!r}, status={self.status!r})"
        )

    @contextlib.contextmanager
    def run(
        self, *, run_name: str, run_metadata: Any | None = None, run_description: str | None = None
    ) -> Iterator[Any]:
        """Trace one execution of this item as a root span linked to the dataset run ``run_name``."""
        trace_name = f"Dataset run: {run_name}"
        with self.langfuse.start_as_current_span(name=trace_name) as span:
            span.update_trace(
                name=trace_name,
                metadata={"dataset_item_id": self.id, "run_name": run_name, "dataset_id": self.dataset_id},
            )
            self.langfuse.api.dataset_run_items.create(
                request={
                    "runName": run_name,
                    "datasetItemId": self.id,
                    "traceId": span.trace_id,
                    "metadata": run_metadata,
                    "runDescription": run_description,
                }
            )
            yield span


class DatasetClient:
    """A dataset and all of its items."""

    id: str
    name: str
    description: str | None
    metadata: Any
    project_id: str
    created_at: dt.datetime
    updated_at: dt.datetime
    input_schema: Any
    expected_output_schema: Any
    items: list[DatasetItemClient]

    _FIELDS = {
        "id": None,
        "name": None,
        "description": None,
        "metadata": None,
        "project_id": "projectId",
        "created_at": "createdAt",
        "updated_at": "updatedAt",
        "input_schema": "inputSchema",
        "expected_output_schema": "expectedOutputSchema",
    }

    def __init__(self, dataset: Any, items: list[DatasetItemClient], langfuse: Any = None) -> None:
        for name, camel in self._FIELDS.items():
            setattr(self, name, _get(dataset, name, camel))
        self.items = items
        self._langfuse = langfuse if langfuse is not None else (items[0].langfuse if items else None)

    def __repr__(self) -> str:
        return f"DatasetClient(name={self.name!r}, id={self.id!r}, items={len(self.items)})"

    def _client(self) -> Any:
        if self._langfuse is None:
            raise ValueError("No Langfuse client available. Dataset items are empty.")
        return self._langfuse

    def run_experiment(
        self,
        *,
        name: str,
        task: Callable[..., Any],
        run_name: str | None = None,
        description: str | None = None,
        evaluators: list[Callable[..., Any]] | None = None,
        composite_evaluator: Callable[..., Any] | None = None,
        run_evaluators: list[Callable[..., Any]] | None = None,
        max_concurrency: int = 50,
        metadata: dict[str, Any] | None = None,
        progress: bool | None = None,
    ) -> ExperimentResult:
        """Run ``task`` (and the evaluators) on every item; results are linked to the dataset run."""
        return self._client().run_experiment(data=self.items, **_experiment_args(locals()))

    async def run_experiment_async(
        self,
        *,
        name: str,
        task: Callable[..., Any],
        run_name: str | None = None,
        description: str | None = None,
        evaluators: list[Callable[..., Any]] | None = None,
        composite_evaluator: Callable[..., Any] | None = None,
        run_evaluators: list[Callable[..., Any]] | None = None,
        max_concurrency: int = 50,
        metadata: dict[str, Any] | None = None,
        progress: bool | None = None,
    ) -> ExperimentResult:
        """Awaitable form of :meth:`run_experiment`, for code already inside an event loop."""
        return await self._client().run_experiment_async(data=self.items, **_experiment_args(locals()))


def _experiment_args(arguments: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments to forward: everything given except ``self`` (lists default to empty)."""
    forwarded = {key: value for key, value in arguments.items() if key != "self"}
    for key in ("evaluators", "run_evaluators"):
        forwarded[key] = list(forwarded[key] or [])
    return forwarded


class DatasetsMixin:
    """create_dataset / create_dataset_item / get_dataset for ``Langfuse``."""

    api: LangfuseAPI

    def create_dataset(
        self,
        *,
        name: str,
        description: str | None = None,
        metadata: Any | None = None,
        input_schema: Any | None = None,
        expected_output_schema: Any | None = None,
    ) -> Dataset:
        """Create (or upsert by name) a dataset; returns the API ``Dataset``."""
        return self.api.datasets.create(
            request={
                "name": name,
                "description": description,
                "metadata": metadata,
                "inputSchema": input_schema,
                "expectedOutputSchema": expected_output_schema,
            }
        )

    def create_dataset_item(
        self,
        *,
        dataset_name: str,
        input: Any | None = None,
        expected_output: Any | None = None,
        metadata: Any | None = None,
        source_trace_id: str | None = None,
        source_observation_id: str | None = None,
        status: Any | None = None,
        id: str | None = None,
    ) -> DatasetItem:
        """Create a dataset item, or update the item with this ``id``; returns the API ``DatasetItem``."""
        return self.api.dataset_items.create(
            request={
                "datasetName": dataset_name,
                "input": input,
                "expectedOutput": expected_output,
                "metadata": metadata,
                "sourceTraceId": source_trace_id,
                "sourceObservationId": source_observation_id,
                "status": getattr(status, "value", status),
                "id": id,
            }
        )

    def get_dataset(
        self, name: str, *, fetch_items_page_size: int | None = DEFAULT_PAGE_SIZE
    ) -> DatasetClient:
        """Fetch a dataset and all its items, page by page (``fetch_items_page_size`` per request)."""
        dataset = self.api.datasets.get(name)
        page_size = fetch_items_page_size or DEFAULT_PAGE_SIZE
        items = [DatasetItemClient(item, langfuse=self) for item in self._dataset_items(name, page_size)]
        return DatasetClient(dataset, items=items, langfuse=self)

    def _dataset_items(self, name: str, page_size: int) -> Iterator[Any]:
        page = 1
        while True:
            response = self.api.dataset_items.list(dataset_name=name, page=page, limit=page_size)
            yield from _get(response, "data") or []
            if (_get(_get(response, "meta"), "total_pages", "totalPages") or 0) <= page:
                return
            page += 1
