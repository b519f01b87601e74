"""``/api/public/score-configs``: create, list, get and update score configs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request

from langfuse_nb.server import config as server_config
from langfuse_nb.server.errors import BadRequest, NotFound
from langfuse_nb.server.http import JsonBody, JsonResponse, config_of, db_of, json_object, ok
from langfuse_nb.server.ingestion import EventError
from langfuse_nb.server.query import page_of
from langfuse_nb.server.routes import Route
from langfuse_nb.server.store import score_configs as store
from langfuse_nb.server.store.score_configs import ConfigError


def _project_id(request: Request) -> str:
    # a configured project id (headless init) wins over the built-in one
    return getattr(config_of(request), "project_id", None) or server_config.PROJECT_ID


def score_check(request: Request) -> Callable[[dict[str, Any]], None]:
    """Checks stored score rows against the configs they name; raises EventError, as ingestion expects."""
    check = store.score_checker(db_of(request).reader)

    def checked(score: dict[str, Any]) -> None:
        try:
            check(score)
        except ConfigError as exc:
            raise EventError(str(exc)) from None

    return checked


def create_config(request: Request, body: JsonBody) -> JsonResponse:
    try:
        with db_of(request).write() as conn:
            row = store.create(conn, _project_id(request), json_object(body))
    except ConfigError as exc:
        raise BadRequest(f"Invalid score config: {exc}") from None
    return ok(store.to_view(row))


def list_configs(request: Request, page: int | None = None, limit: int | None = None) -> JsonResponse:
    paging = page_of(page, limit)
    rows, total = store.page(db_of(request).reader, paging.limit, paging.offset)
    return ok({"data": [store.to_view(r) for r in rows], "meta": paging.meta(total)})


def get_config(request: Request, configId: str) -> JsonResponse:
    row = store.get(db_of(request).reader, configId)
    if row is None:
        raise NotFound(f"Score config {configId} not found")
    return ok(store.to_view(row))


def update_config(request: Request, configId: str, body: JsonBody) -> JsonResponse:
    try:
        with db_of(request).write() as conn:
            row = store.update(conn, configId, json_object(body))
    except ConfigError as exc:
        raise BadRequest(f"Invalid score config: {exc}") from None
    if row is None:
        raise NotFound(f"Score config {configId} not found")
    return ok(store.to_view(row))


ROUTES = [
    Route("POST", "/api/public/score-configs", create_config),
    Route("GET", "/api/public/score-configs", list_configs),
    Route("GET", "/api/public/score-configs/{configId:path}", get_config),
    Route("PATCH", "/api/public/score-configs/{configId:path}", update_config),
]
