"""Score read and delete endpoints (v2 list/get, v1 delete)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from starlette.responses import Response

from langfuse_nb.server.errors import BadRequest, NotFound
from langfuse_nb.server.http import (
    JsonBody,
    JsonResponse,
    blobs_of,
    config_of,
    db_of,
    json_object,
    no_content,
    ok,
)
from langfuse_nb.server.ingestion import EventError, score_row
from langfuse_nb.server.query import Column, Where, apply_filter, parse_filter
from langfuse_nb.server.routes import Route
from langfuse_nb.server.routes.paging import list_page
from langfuse_nb.server.routes.score_configs import score_check
from langfuse_nb.server.store import counts, ingest, scores
from langfuse_nb.server.values import loads

_TRACE = "(SELECT {0} FROM traces t WHERE t.id = s.trace_id)"
FILTER_COLUMNS = {
    "id": Column("s.id", "string"),
    "name": Column("s.name", "string"),
    "value": Column("s.value", "number"),
    "stringValue": Column("s.string_value", "string"),
    "dataType": Column("s.data_type", "string"),
    "source": Column("s.source", "string"),
    "timestamp": Column("s.timestamp", "datetime"),
    "traceId": Column("s.trace_id", "string"),
    "observationId": Column("s.observation_id", "string"),
    "sessionId": Column("s.session_id", "string"),
    "datasetRunId": Column("s.dataset_run_id", "string"),
    "environment": Column("s.environment", "string"),
    "configId": Column("s.config_id", "string"),
    "metadata": Column("s.metadata", "json"),
    "userId": Column(_TRACE.format("user_id"), "string"),
    "traceName": Column(_TRACE.format("name"), "string"),
    "traceTags": Column("s.trace_id", "tags"),
}
_OPERATORS = {"<", ">", "<=", ">=", "!=", "="}
StrList = Annotated[list[str] | None, Query()]


def list_scores(
    request: Request,
    page: int | None = None,
    limit: int | None = None,
    userId: str | None = None,
    name: str | None = None,
    fromTimestamp: str | None = None,
    toTimestamp: str | None = None,
    environment: StrList = None,
    source: str | None = None,
    operator: str | None = None,
    value: float | None = None,
    scoreIds: str | None = None,
    configId: str | None = None,
    sessionId: str | None = None,
    datasetRunId: str | None = None,
    traceId: str | None = None,
    observationId: str | None = None,
    queueId: str | None = None,
    dataType: str | None = None,
    traceTags: StrList = None,
    fields: str | None = None,
    filter_: Annotated[str | None, Query(alias="filter")] = None,
) -> JsonResponse:
    paging = list_page(page, limit)
    with_trace = _trace_group(fields, userId is not None or bool(traceTags))
    where = Where()
    for column, given in (
        ("s.name", name),
        ("s.source", source),
        ("s.config_id", configId),
        ("s.session_id", sessionId),
        ("s.dataset_run_id", datasetRunId),
        ("s.trace_id", traceId),
        ("s.queue_id", queueId),
        ("s.data_type", dataType),
    ):
        where.eq(column, given)
    if userId is not None:
        where.add("s.trace_id IN (SELECT id FROM traces WHERE user_id = ?)", userId)
    where.any_of("s.environment", environment)
    where.any_of("s.id", _csv(scoreIds))
    where.any_of("s.observation_id", _csv(observationId))
    where.time("s.timestamp", ">=", fromTimestamp)
    where.time("s.timestamp", "<", toTimestamp)
    if operator is not None or value is not None:
        if operator not in _OPERATORS or value is None:
            raise BadRequest(f"operator must be one of {sorted(_OPERATORS)} and come with a numeric value")
        where.add(f"s.value {operator} ?", value)
    if traceTags:
        apply_filter(
            where, [{"column": "traceTags", "operator": "all of", "value": traceTags}], FILTER_COLUMNS
        )
    apply_filter(where, parse_filter(filter_), FILTER_COLUMNS)
    conn = db_of(request).reader
    rows = conn.execute(
        f"SELECT s.*, t.user_id AS t_user_id, t.tags AS t_tags, t.environment AS t_environment, "
        f"t.session_id AS t_session_id, t.id AS t_id FROM scores s "
        f"LEFT JOIN traces t ON t.id = s.trace_id {where.sql()} "
        "ORDER BY s.timestamp DESC, s.id LIMIT ? OFFSET ?",
        [*where.params, paging.limit, paging.offset],
    ).fetchall()
    total = counts.count(conn, where.count_query("scores s"), where.params)
    project_id = config_of(request).project_id
    data = [
        _with_trace(r, project_id) if with_trace else scores.to_view(r, project_id=project_id) for r in rows
    ]
    return ok({"data": data, "meta": paging.meta(total)})


_SCORE_GROUPS = {"score", "trace"}


def _trace_group(fields: str | None, filters_on_trace: bool) -> bool:
    """Whether the ``trace`` group is wanted (``fields`` lists ``score``/``trace``; both by default)."""
    if not fields:
        return True
    wanted = {part.strip() for part in fields.split(",")} & _SCORE_GROUPS
    if "trace" not in wanted and filters_on_trace:
        raise BadRequest("filtering by userId or traceTags needs the 'trace' field group in 'fields'")
    return "trace" in wanted


def _csv(value: str | None) -> list[str] | None:
    return [part.strip() for part in value.split(",") if part.strip()] if value else None


def _with_trace(row: Any, project_id: str) -> dict[str, Any]:
    view = scores.to_view(row, project_id=project_id)
    if row["t_id"] is not None:
        view["trace"] = {
            "userId": row["t_user_id"],
            "tags": loads(row["t_tags"]) or [],
            "environment": row["t_environment"],
            "sessionId": row["t_session_id"],
        }
    return view


def get_score(request: Request, scoreId: str) -> JsonResponse:
    row = scores.get(db_of(request).reader, scoreId)
    if row is None:
        raise NotFound(f"Score {scoreId} not found")
    return ok(scores.to_view(row, project_id=config_of(request).project_id))


def delete_score(request: Request, scoreId: str) -> Response:
    with db_of(request).write() as conn:
        if not scores.delete(conn, scoreId):
            raise NotFound(f"Score {scoreId} not found")
    return no_content()


def create_score(request: Request, body: JsonBody) -> JsonResponse:
    try:
        row = score_row(json_object(body))
        score_check(request)(row)
    except EventError as exc:
        raise BadRequest(f"Invalid request data: {exc}") from None
    ingest.write(db_of(request), blobs_of(request), score_rows=[row])
    return ok({"id": row["id"]})


ROUTES = [
    Route("POST", "/api/public/scores", create_score),
    Route("GET", "/api/public/v2/scores", list_scores),
    Route("GET", "/api/public/v2/scores/{scoreId:path}", get_score),
    Route("DELETE", "/api/public/scores/{scoreId:path}", delete_score),
]
