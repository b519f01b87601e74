"""Datasets (v2), dataset items, dataset run items and dataset runs."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from langfuse_nb.server.errors import BadRequest
from langfuse_nb.server.http import JsonBody, JsonResponse, config_of, db_of, json_object, ok
from langfuse_nb.server.routes import Route
from langfuse_nb.server.routes.paging import list_page
from langfuse_nb.server.routes.schemas import mismatch, schema_problem
from langfuse_nb.server.store import datasets as store
from langfuse_nb.server.store.datasets import require_string
from langfuse_nb.server.values import is_safe_id, loads

_STATUSES = ("ACTIVE", "ARCHIVED")


def _optional_str(spec: dict[str, Any], *keys: str) -> None:
    for key in keys:
        if spec.get(key) is not None and not isinstance(spec[key], str):
            raise BadRequest(f"'{key}' must be a string or null")


def _check_schemas(spec: dict[str, Any]) -> None:
    # Langfuse rejects a dataset whose input/expected-output schema is not a JSON Schema object
    for key in ("inputSchema", "expectedOutputSchema"):
        value = spec.get(key)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise BadRequest(f"'{key}' must be a JSON Schema object, got {type(value).__name__}")
        problem = schema_problem(value, key)
        if problem:
            raise BadRequest(f"'{key}' is not a valid JSON Schema: {problem}")


def create_dataset(request: Request, body: JsonBody) -> JsonResponse:
    spec = json_object(body)
    require_string(spec, "name")
    _optional_str(spec, "description")
    _check_schemas(spec)
    with db_of(request).write() as conn:
        row = store.upsert(conn, spec)
    return ok(store.to_view(row, config_of(request).project_id))


def list_datasets(request: Request, page: int | None = None, limit: int | None = None) -> JsonResponse:
    paging = list_page(page, limit)
    conn = db_of(request).reader
    rows = conn.execute(
        "SELECT * FROM datasets ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
        (paging.limit, paging.offset),
    ).fetchall()
    total = conn.execute("SELECT count(*) FROM datasets").fetchone()[0]
    project_id = config_of(request).project_id
    return ok({"data": [store.to_view(dict(r), project_id) for r in rows], "meta": paging.meta(total)})


def get_dataset(request: Request, datasetName: str) -> JsonResponse:
    return ok(store.to_view(store.by_name(db_of(request).reader, datasetName), config_of(request).project_id))


def create_item(request: Request, body: JsonBody) -> JsonResponse:
    spec = json_object(body)
    require_string(spec, "datasetName")
    _optional_str(spec, "sourceTraceId", "sourceObservationId", "id")
    if spec.get("id") is not None and not is_safe_id(spec["id"]):
        raise BadRequest("'id' must be 1-500 printable characters")
    if spec.get("status") is not None and spec["status"] not in _STATUSES:
        raise BadRequest(f"'status' must be one of {list(_STATUSES)}")
    with db_of(request).write() as conn:
        _check_item_against_schemas(store.by_name(conn, spec["datasetName"]), spec)
        row = store.upsert_item(conn, spec)
    return ok(store.item_view(row))


def _check_item_against_schemas(dataset: dict[str, Any], spec: dict[str, Any]) -> None:
    """Like Langfuse: an item's input / expected output must match the dataset's schemas, when set."""
    for key, column in (("input", "input_schema"), ("expectedOutput", "expected_output_schema")):
        schema = loads(dataset[column])
        if schema is None or spec.get(key) is None:
            continue  # no schema, or a null that keeps the stored value on update
        problem = mismatch(spec[key], schema)
        if problem:
            raise BadRequest(f"'{key}' does not match the dataset's {column.replace('_', ' ')}: {problem}")


def get_item(request: Request, id: str) -> JsonResponse:
    return ok(store.item_view(store.get_item(db_of(request).reader, id)))


def delete_item(request: Request, id: str) -> JsonResponse:
    with db_of(request).write() as conn:
        store.delete_item(conn, id)
    return ok({"message": "Dataset item successfully deleted"})


def list_items(
    request: Request,
    datasetName: str | None = None,
    sourceTraceId: str | None = None,
    sourceObservationId: str | None = None,
    page: int | None = None,
    limit: int | None = None,
) -> JsonResponse:
    paging = list_page(page, limit)
    conn = db_of(request).reader
    dataset_id = store.by_name(conn, datasetName)["id"] if datasetName is not None else None
    rows, total = store.list_items(
        conn, dataset_id, sourceTraceId, sourceObservationId, paging.limit, paging.offset
    )
    return ok({"data": [store.item_view(r) for r in rows], "meta": paging.meta(total)})


def create_run_item(request: Request, body: JsonBody) -> JsonResponse:
    spec = json_object(body)
    require_string(spec, "runName")
    require_string(spec, "datasetItemId")
    _optional_str(spec, "runDescription", "traceId", "observationId")
    with db_of(request).write() as conn:
        row = store.create_run_item(conn, spec)
    return ok(store.run_item_view(row))


def list_run_items(
    request: Request, datasetId: str, runName: str, page: int | None = None, limit: int | None = None
) -> JsonResponse:
    paging = list_page(page, limit)
    conn = db_of(request).reader
    run = store.run_by_dataset_id(conn, datasetId, runName)
    rows, total = store.run_items(conn, run, paging.limit, paging.offset)
    return ok({"data": [store.run_item_view(r) for r in rows], "meta": paging.meta(total)})


def list_runs(
    request: Request,
    datasetName: str,
    page: int | None = None,
    limit: int | None = None,
) -> JsonResponse:
    paging = list_page(page, limit)
    conn = db_of(request).reader
    dataset = store.by_name(conn, datasetName)
    rows, total = store.list_runs(conn, dataset["id"], paging.limit, paging.offset)
    return ok({"data": [store.run_view(r) for r in rows], "meta": paging.meta(total)})


def get_run(request: Request, datasetName: str, runName: str) -> JsonResponse:
    conn = db_of(request).reader
    run = store.get_run(conn, datasetName, runName)
    items, _ = store.run_items(conn, run)
    return ok({**store.run_view(run), "datasetRunItems": [store.run_item_view(i) for i in items]})


def delete_run(request: Request, datasetName: str, runName: str) -> JsonResponse:
    with db_of(request).write() as conn:
        store.delete_run(conn, store.get_run(conn, datasetName, runName))
    return ok({"message": "Dataset run successfully deleted"})


ROUTES = [
    Route("POST", "/api/public/v2/datasets", create_dataset),
    Route("GET", "/api/public/v2/datasets", list_datasets),
    Route("GET", "/api/public/v2/datasets/{datasetName:path}", get_dataset),
    Route("POST", "/api/public/dataset-items", create_item),
    Route("GET", "/api/public/dataset-items", list_items),
    Route("GET", "/api/public/dataset-items/{id:path}", get_item),
    Route("DELETE", "/api/public/dataset-items/{id:path}", delete_item),
    Route("POST", "/api/public/dataset-run-items", create_run_item),
    Route("GET", "/api/public/dataset-run-items", list_run_items),
    Route("GET", "/api/public/datasets/{datasetName:path}/runs/{runName}", get_run),
    Route("DELETE", "/api/public/datasets/{datasetName:path}/runs/{runName}", delete_run),
    Route("GET", "/api/public/datasets/{datasetName:path}/runs", list_runs),
]
