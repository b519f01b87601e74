"""Observation read endpoints (v1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request

from langfuse_nb.server import gcpause
from langfuse_nb.server.errors import BadRequest, NotFound
from langfuse_nb.server.http import JsonResponse, blobs_of, config_of, db_of, ok
from langfuse_nb.server.query import Column, Where, apply_filter, parse_filter
from langfuse_nb.server.routes import Route
from langfuse_nb.server.routes.paging import list_page
from langfuse_nb.server.spans import OBSERVATION_TYPES
from langfuse_nb.server.store import counts, observations
from langfuse_nb.server.store.observations import epoch_sql

_TRACE = "(SELECT {0} FROM traces t WHERE t.id = o.trace_id)"
_LATENCY = f"({epoch_sql('o.end_time')} - {epoch_sql('o.start_time')})"
_TIME_TO_FIRST_TOKEN = f"({epoch_sql('o.completion_start_time')} - {epoch_sql('o.start_time')})"
FILTER_COLUMNS = {
    "id": Column("o.id", "string"),
    "type": Column("o.type", "string"),
    "name": Column("o.name", "string"),
    "traceId": Column("o.trace_id", "string"),
    "startTime": Column("o.start_time", "datetime"),
    "start_time": Column("o.start_time", "datetime"),
    "endTime": Column("o.end_time", "datetime"),
    "end_time": Column("o.end_time", "datetime"),
    "environment": Column("coalesce(o.environment, 'default')", "string"),
    "level": Column("coalesce(o.level, 'DEFAULT')", "string"),
    "statusMessage": Column("o.status_message", "string"),
    "version": Column("o.version", "string"),
    "model": Column("o.model", "string"),
    "promptName": Column("o.prompt_name", "string"),
    "promptVersion": Column("o.prompt_version", "number"),
    "parentObservationId": Column("o.parent_observation_id", "string"),
    "metadata": Column("o.metadata", "json"),
    "totalCost": Column("o.total_cost", "number"),
    "inputCost": Column("json_extract(o.cost_details, '$.input')", "number"),
    "outputCost": Column("json_extract(o.cost_details, '$.output')", "number"),
    "inputTokens": Column("json_extract(o.usage_details, '$.input')", "number"),
    "outputTokens": Column("json_extract(o.usage_details, '$.output')", "number"),
    "totalTokens": Column("json_extract(o.usage_details, '$.total')", "number"),
    "latency": Column(_LATENCY, "number"),
    "timeToFirstToken": Column(_TIME_TO_FIRST_TOKEN, "number"),
    "tokensPerSecond": Column(f"json_extract(o.usage_details, '$.output') / nullif({_LATENCY}, 0)", "number"),
    "userId": Column(_TRACE.format("user_id"), "string"),
    "traceName": Column(_TRACE.format("name"), "string"),
    "traceEnvironment": Column(_TRACE.format("environment"), "string"),
    "traceTags": Column("o.trace_id", "tags"),
}
StrList = Annotated[list[str] | None, Query()]


LEVELS = ("DEBUG", "DEFAULT", "WARNING", "ERROR")


def _check_enums(type: str | None, level: str | None) -> None:
    # Langfuse validates both against their enums (400); a type in lower case is accepted here
    if type is not None and type.upper() not in OBSERVATION_TYPES:
        raise BadRequest(f"type {type!r} is not an observation type; use one of {sorted(OBSERVATION_TYPES)}")
    if level is not None and level not in LEVELS:
        raise BadRequest(f"level {level!r} is not a level; use one of {list(LEVELS)}")


def observation_filters(
    *,
    name: str | None = None,
    userId: str | None = None,
    sessionId: str | None = None,
    type: str | None = None,
    traceId: str | None = None,
    level: str | None = None,
    parentObservationId: str | None = None,
    environment: list[str] | None = None,
    fromStartTime: str | None = None,
    toStartTime: str | None = None,
    version: str | None = None,
    filter_: str | None = None,
) -> Where:
    """The list filters shared by the v1 and v2 observation lists (``o`` is the observations alias)."""
    _check_enums(type, level)
    where = Where()
    for column, value in (
        ("o.name", name),
        ("o.type", type.upper() if type else None),
        ("o.trace_id", traceId),
        ("coalesce(o.level, 'DEFAULT')", level),
        ("o.parent_observation_id", parentObservationId),
        ("o.version", version),
    ):
        where.eq(column, value)
    if userId is not None:
        where.add("o.trace_id IN (SELECT id FROM traces WHERE user_id = ?)", userId)
    if sessionId is not None:
        where.add("o.trace_id IN (SELECT id FROM traces WHERE session_id = ?)", sessionId)
    where.any_of("coalesce(o.environment, 'default')", environment)
    where.time("o.start_time", ">=", fromStartTime)
    where.time("o.start_time", "<", toStartTime)
    apply_filter(where, parse_filter(filter_), FILTER_COLUMNS)
    return where


def list_observations(
    request: Request,
    page: int | None = None,
    limit: int | None = None,
    name: str | None = None,
    userId: str | None = None,
    type: str | None = None,
    traceId: str | None = None,
    level: str | None = None,
    parentObservationId: str | None = None,
    environment: StrList = None,
    fromStartTime: str | None = None,
    toStartTime: str | None = None,
    version: str | None = None,
    filter_: Annotated[str | None, Query(alias="filter")] = None,
) -> JsonResponse:
    paging = list_page(page, limit)
    where = observation_filters(
        name=name,
        userId=userId,
        type=type,
        traceId=traceId,
        level=level,
        parentObservationId=parentObservationId,
        environment=environment,
        fromStartTime=fromStartTime,
        toStartTime=toStartTime,
        version=version,
        filter_=filter_,
    )
    conn = db_of(request).reader
    # pages of up to 1,000 observations: small dicts, freed once rendered; rows and their rare values (two
    # queries) from one snapshot
    with gcpause.paused(), observations.read_snapshot(conn):
        rows = observations.select_view_rows(
            conn,
            f"{where.sql()} ORDER BY o.start_time DESC, o.id LIMIT ? OFFSET ?",
            [*where.params, paging.limit, paging.offset],
        )
        total = counts.count(conn, where.count_query("observations o"), where.params)
        data = observations.ViewBuilder(conn, blobs_of(request), config_of(request).project_id).views(rows)
        response = ok({"data": data, "meta": paging.meta(total)})
        del rows, data  # freed while the collector is off (see routes/traces.list_traces)
    return response


def get_observation(request: Request, observationId: str) -> JsonResponse:
    conn = db_of(request).reader
    row = observations.get(conn, observationId)
    if row is None:
        raise NotFound(f"Observation {observationId} not found within authorized project")
    return ok(observations.to_view(row, conn, blobs_of(request), config_of(request).project_id))


ROUTES = [
    Route("GET", "/api/public/observations", list_observations),
    Route("GET", "/api/public/observations/{observationId:path}", get_observation),
]
