"""Observations v2: cursor pages and field groups (``GET /api/public/v2/observations``)."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import Query, Request

from langfuse_nb.server.errors import BadRequest
from langfuse_nb.server.http import JsonResponse, config_of, db_of, ok
from langfuse_nb.server.query import MAX_LIMIT
from langfuse_nb.server.routes import Route
from langfuse_nb.server.routes.observations import observation_filters
from langfuse_nb.server.store.observations import seconds_between
from langfuse_nb.server.values import dumps, loads, unpack_io

StrList = Annotated[list[str] | None, Query()]
METADATA_PREVIEW = 200  # characters of a metadata value unless its key is in expandMetadata
DEFAULT_GROUPS = ("core", "basic")

_SELECT = (
    "SELECT o.*, t.name AS t_name, t.user_id AS t_user_id, t.session_id AS t_session_id, t.tags AS t_tags, "
    "t.release AS t_release, t.public AS t_public, t.bookmarked AS t_bookmarked "
    "FROM observations o LEFT JOIN traces t ON t.id = o.trace_id"
)


def _core(row: sqlite3.Row, project_id: str) -> dict[str, Any]:
    return {
        "id": row["id"],
        "traceId": row["trace_id"],
        "startTime": row["start_time"],
        "endTime": row["end_time"],
        "projectId": project_id,
        "parentObservationId": row["parent_observation_id"],
        "type": row["type"],
        # required by the API's ObservationV2 whatever the groups: the matched model and its prices
        "modelId": _model_id(row),
        "inputPrice": None,
        "outputPrice": None,
        "totalPrice": None,
    }


def _model_id(row: sqlite3.Row) -> str | None:
    return row["model_id"] if "model_id" in row.keys() else None  # noqa: SIM118 (Row: `in` looks at values)


def _basic(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "name": row["name"],
        "level": row["level"] or "DEFAULT",
        "statusMessage": row["status_message"],
        "version": row["version"],
        "environment": row["environment"] or "default",
        "bookmarked": bool(row["t_bookmarked"]),
        "public": bool(row["t_public"]),
        "userId": row["t_user_id"],
        "sessionId": row["t_session_id"],
        "isRootObservation": row["parent_observation_id"] is None or bool(row["as_root"]),
    }


def _time(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "completionStartTime": row["completion_start_time"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }


def _io(row: sqlite3.Row) -> dict[str, Any]:
    # raw strings, as v2 returns them (long ones are stored compressed: values.unpack_io)
    return {"input": unpack_io(row["input"]), "output": unpack_io(row["output"])}


def _metadata(row: sqlite3.Row, expand: set[str]) -> dict[str, Any]:
    # v2 returns metadata as a string map with long values cut, unless their key is asked for in full
    stored = loads(row["metadata"]) or {}
    texts = {key: value if isinstance(value, str) else dumps(value) for key, value in stored.items()}
    return {
        "metadata": {key: text if key in expand else text[:METADATA_PREVIEW] for key, text in texts.items()}
    }


def _model(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "model": row["model"],
        "internalModelId": _model_id(row),
        "modelParameters": loads(row["model_parameters"]) or {},
    }


def _usage(row: sqlite3.Row) -> dict[str, Any]:
    cost = loads(row["cost_details"]) or {}
    tier = row["usage_pricing_tier_name"] if "usage_pricing_tier_name" in row.keys() else None  # noqa: SIM118
    return {
        "usageDetails": loads(row["usage_details"]) or {},
        "costDetails": cost,
        "totalCost": cost.get("total", row["total_cost"]) or 0,
        "usagePricingTierName": tier,
    }


def _prompt(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "promptId": row["prompt_id"],
        "promptName": row["prompt_name"],
        "promptVersion": row["prompt_version"],
    }


def _metrics(row: sqlite3.Row) -> dict[str, Any]:
    start = row["start_time"]
    return {
        "latency": seconds_between(start, row["end_time"]),
        "timeToFirstToken": seconds_between(start, row["completion_start_time"]),
    }


def _trace_context(row: sqlite3.Row) -> dict[str, Any]:
    return {"tags": loads(row["t_tags"]) or [], "release": row["t_release"], "traceName": row["t_name"]}


_Builder = Callable[[sqlite3.Row, str, set[str]], dict[str, Any]]
GROUPS: dict[str, _Builder] = {
    "core": lambda row, project_id, _: _core(row, project_id),
    "basic": lambda row, *_: _basic(row),
    "time": lambda row, *_: _time(row),
    "io": lambda row, *_: _io(row),
    "metadata": lambda row, _, expand: _metadata(row, expand),
    "model": lambda row, *_: _model(row),
    "usage": lambda row, *_: _usage(row),
    "prompt": lambda row, *_: _prompt(row),
    "metrics": lambda row, *_: _metrics(row),
    "trace_context": lambda row, *_: _trace_context(row),
}


def _groups(fields: str | None) -> list[str]:
    """Requested groups in table order; ``core`` always, ``core,basic`` by default, unknown names ignored."""
    wanted = {part.strip() for part in fields.split(",")} if fields else set(DEFAULT_GROUPS)
    return [group for group in GROUPS if group in wanted or group == "core"]


def encode_cursor(row: sqlite3.Row) -> str:
    position = {"lastStartTimeTo": row["start_time"], "lastTraceId": row["trace_id"], "lastId": row["id"]}
    return base64.b64encode(orjson.dumps(position)).decode()


def _decode_cursor(cursor: str) -> tuple[str, str, str]:
    try:
        position = orjson.loads(base64.b64decode(cursor, validate=True))
        values = (position["lastStartTimeTo"], position["lastTraceId"], position["lastId"])
    except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        raise BadRequest("Invalid cursor format") from None
    if not all(isinstance(value, str) for value in values):
        raise BadRequest("Invalid cursor format")
    return values


def list_observations_v2(
    request: Request,
    fields: str | None = None,
    expandMetadata: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
    parseIoAsJson: str | None = None,
    name: str | None = None,
    userId: str | None = None,
    sessionId: str | None = None,
    type: str | None = None,
    traceId: str | None = None,
    level: str | None = None,
    parentObservationId: str | None = None,
    isRootObservation: bool | None = None,
    environment: StrList = None,
    fromStartTime: str | None = None,
    toStartTime: str | None = None,
    version: str | None = None,
    filter_: Annotated[str | None, Query(alias="filter")] = None,
) -> JsonResponse:
    if parseIoAsJson == "true":
        raise BadRequest("parseIoAsJson=true is not supported: v2 returns input and output as raw strings")
    if not 0 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be between 0 and {MAX_LIMIT}, got {limit}")
    where = observation_filters(
        name=name,
        userId=userId,
        sessionId=sessionId,
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
    if isRootObservation is not None:
        root = "(o.parent_observation_id IS NULL OR o.as_root = 1)"
        where.add(root if isRootObservation else f"NOT {root}")
    if cursor:
        where.add("(o.start_time, o.trace_id, o.id) < (?, ?, ?)", *_decode_cursor(cursor))
    rows = (
        db_of(request)
        .reader.execute(
            f"{_SELECT} {where.sql()} ORDER BY o.start_time DESC, o.trace_id DESC, o.id DESC LIMIT ?",
            [*where.params, limit],
        )
        .fetchall()
    )
    groups = _groups(fields)
    expand = {key.strip() for key in (expandMetadata or "").split(",") if key.strip()}
    project_id = config_of(request).project_id
    data = [{k: v for g in groups for k, v in GROUPS[g](row, project_id, expand).items()} for row in rows]
    meta = {"cursor": encode_cursor(rows[-1])} if rows and len(rows) == limit else {}
    return ok({"data": data, "meta": meta})


ROUTES = [Route("GET", "/api/public/v2/observations", list_observations_v2)]
