"""Datasets against the embedded server: create, upsert, paginated fetch, experiment delegation."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from langfuse_nb.sdk.datasets import DatasetClient, DatasetItemClient

NAME = "evals/capital cities"


def test_create_and_get_dataset_across_pages(lf: Any) -> None:
    created = lf.create_dataset(
        name=NAME,
        description="d",
        metadata={"k": 1},
        input_schema={"type": "object"},
        expected_output_schema={"type": "string"},
    )
    assert created.name == NAME
    for i in range(7):
        lf.create_dataset_item(
            dataset_name=NAME, input={"i": i}, expected_output=f"out{i}", metadata={"n": i}, id=f"item-{i}"
        )
    dataset = lf.get_dataset(NAME, fetch_items_page_size=3)  # pages of 3, 3, 1
    assert isinstance(dataset, DatasetClient)
    assert (dataset.id, dataset.name, dataset.description, dataset.metadata) == (
        created.id,
        NAME,
        "d",
        {"k": 1},
    )
    assert dataset.input_schema == {"type": "object"} and dataset.expected_output_schema == {"type": "string"}
    assert dataset.project_id and dataset.created_at and dataset.updated_at
    assert sorted(item.id for item in dataset.items) == [f"item-{i}" for i in range(7)]
    item = next(item for item in dataset.items if item.id == "item-2")
    assert (item.input, item.expected_output, item.metadata) == ({"i": 2}, "out2", {"n": 2})
    assert (item.dataset_id, item.dataset_name, item.langfuse) == (created.id, NAME, lf)


def test_item_upsert_status_and_source(lf: Any) -> None:
    lf.create_dataset(name="ds-upsert")
    lf.create_dataset_item(dataset_name="ds-upsert", input="a", id="same")
    lf.create_dataset_item(
        dataset_name="ds-upsert",
        input="b",
        id="same",
        status="ARCHIVED",
        source_trace_id="t" * 32,
        source_observation_id="o" * 16,
    )
    (item,) = lf.get_dataset("ds-upsert").items  # archived items are kept
    assert (item.input, str(getattr(item.status, "value", item.status))) == ("b", "ARCHIVED")
    assert (item.source_trace_id, item.source_observation_id) == ("t" * 32, "o" * 16)


def test_empty_dataset(lf: Any) -> None:
    lf.create_dataset(name="empty")
    assert lf.get_dataset("empty").items == []


def test_unknown_dataset_raises(lf: Any) -> None:
    from langfuse_nb.errors import NotFoundError

    with pytest.raises(NotFoundError):
        lf.get_dataset("nope")


class RecordingClient:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def run_experiment(self, **kwargs: Any) -> str:
        self.calls.append(("sync", kwargs))
        return "result"

    async def run_experiment_async(self, **kwargs: Any) -> str:
        self.calls.append(("async", kwargs))
        return "async-result"


def _dataset(client: Any) -> DatasetClient:
    item = DatasetItemClient(
        {"id": "i1", "datasetId": "d", "datasetName": "n", "input": 1, "status": "ACTIVE"}, langfuse=client
    )
    return DatasetClient({"id": "d", "name": "n", "projectId": "p"}, items=[item])


def test_run_experiment_delegates_with_items() -> None:
    client = RecordingClient()
    dataset = _dataset(client)

    def task(*, item: Any, **_: Any) -> Any:
        return item.input

    assert dataset.run_experiment(name="exp", task=task, max_concurrency=3) == "result"
    kind, kwargs = client.calls[0]
    assert kind == "sync" and kwargs["data"] is dataset.items and kwargs["task"] is task
    assert kwargs["max_concurrency"] == 3 and kwargs["evaluators"] == [] and kwargs["name"] == "exp"
    assert asyncio.run(dataset.run_experiment_async(name="exp", task=task)) == "async-result"
    assert client.calls[1][0] == "async" and client.calls[1][1]["data"] is dataset.items


def test_run_experiment_without_client() -> None:
    dataset = DatasetClient(SimpleNamespace(id="d", name="n"), items=[])
    with pytest.raises(ValueError, match="No Langfuse client"):
        dataset.run_experiment(name="x", task=lambda **_: None)


def test_item_run_links_trace_to_dataset_run(lf: Any) -> None:
    lf.create_dataset(name="ds-run")
    lf.create_dataset_item(dataset_name="ds-run", input="q", id="run-item")
    (item,) = lf.get_dataset("ds-run").items
    with item.run(run_name="run-1", run_metadata={"model": "m"}, run_description="first") as span:
        span.update(output="a")
        trace_id = span.trace_id
    lf.flush(timeout=10)
    run = lf.api.datasets.get_run("ds-run", "run-1")
    assert run.name == "run-1" and run.description == "first"
    assert [(ri.dataset_item_id, ri.trace_id) for ri in run.dataset_run_items] == [("run-item", trace_id)]
