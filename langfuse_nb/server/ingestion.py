"""Pure mapping of ``POST /api/public/ingestion`` events to rows; each bad event fails alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langfuse_nb.server.spans import LEVELS, OBSERVATION_TYPES, usage_and_cost
from langfuse_nb.server.values import dumps, dumps_or_none, io_text, new_id, now_iso, pack_io, parse_iso

SCORE_TYPES = frozenset({"NUMERIC", "CATEGORICAL", "BOOLEAN"})
SCORE_SOURCES = frozenset({"API", "ANNOTATION", "EVAL"})


class EventError(ValueError):
    """An event that cannot be stored; the message names the problem."""


@dataclass
class MappedBatch:
    traces: list[dict[str, Any]] = field(default_factory=list)
    observations: list[dict[str, Any]] = field(default_factory=list)
    scores: list[dict[str, Any]] = field(default_factory=list)
    successes: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def map_batch(batch: list[Any], check_score: Callable[[dict[str, Any]], None] | None = None) -> MappedBatch:
    """Map every event; ``check_score`` may reject a mapped score row (e.g. against its score config)."""
    out = MappedBatch()
    for index, event in enumerate(batch):
        event_id = (
            event.get("id") if isinstance(event, dict) and isinstance(event.get("id"), str) else str(index)
        )
        marks = (len(out.traces), len(out.observations), len(out.scores))
        try:
            _map_event(event, out)
            if check_score is not None:
                for row in out.scores[marks[2] :]:
                    check_score(row)
        except (EventError, TypeError, ValueError, OverflowError) as exc:
            # drop whatever the event mapped before it failed: a failed event stores nothing
            del out.traces[marks[0] :], out.observations[marks[1] :], out.scores[marks[2] :]
            # TypeError & co. mean a value of a shape no check anticipated: still this event's fault alone
            message = str(exc) if isinstance(exc, EventError) else f"invalid value in event: {exc}"
            out.errors.append(
                {"id": event_id, "status": 400, "message": "Invalid request data", "error": message}
            )
            continue
        out.successes.append({"id": event_id, "status": 201})
    return out


def _map_event(event: Any, out: MappedBatch) -> None:
    if not isinstance(event, dict):
        raise EventError(f"event must be an object, got {type(event).__name__}")
    kind = event.get("type")
    if not isinstance(kind, str):
        raise EventError("event.type is required and must be a string")
    if kind == "sdk-log":
        return
    body = event.get("body")
    if not isinstance(body, dict):
        raise EventError("event.body is required and must be an object")
    stamp = _time(event.get("timestamp"), "event.timestamp") or now_iso()
    handler = _HANDLERS.get(kind) or _observation_handler(kind)
    if handler is None:
        raise EventError(f"unknown event type {kind!r}")
    handler(body, stamp, out)


def _trace_create(body: dict[str, Any], stamp: str, out: MappedBatch) -> None:
    trace_id = _opt_str(body, "id") or new_id()
    tags = body.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        raise EventError("body.tags must be a list of strings")
    metadata = body.get("metadata")
    out.traces.append(
        {
            "id": trace_id,
            "timestamp": _time(body.get("timestamp"), "body.timestamp") or stamp,
            "environment": _opt_str(body, "environment"),
            "is_root": True,
            "name": _opt_str(body, "name"),
            "input": pack_io(io_text(body.get("input"))),
            "output": pack_io(io_text(body.get("output"))),
            "user_id": _opt_str(body, "userId"),
            "session_id": _opt_str(body, "sessionId"),
            "release": _opt_str(body, "release"),
            "version": _opt_str(body, "version"),
            "public": _opt_bool(body, "public"),
            "tags": tags,
            "metadata": metadata
            if isinstance(metadata, dict)
            else ({"metadata": metadata} if metadata else None),
        }
    )


def _observation_handler(kind: str) -> Callable[[dict[str, Any], str, MappedBatch], None] | None:
    prefix, _, action = kind.rpartition("-")
    if action not in ("create", "update"):
        return None
    if prefix == "observation":
        obs_type = None
    elif prefix.upper() in OBSERVATION_TYPES:
        obs_type = prefix.upper()
    else:
        return None
    return lambda body, stamp, out: _observation(body, stamp, out, obs_type, action == "create")


def _observation(
    body: dict[str, Any], stamp: str, out: MappedBatch, obs_type: str | None, create: bool
) -> None:
    obs_id = _opt_str(body, "id")
    if obs_id is None:
        if not create:
            raise EventError("body.id is required for an update event")
        obs_id = new_id()
    declared = body.get("type")
    if obs_type is None:
        if not isinstance(declared, str) or declared.upper() not in OBSERVATION_TYPES:
            raise EventError(f"body.type must be one of {sorted(OBSERVATION_TYPES)}")
        obs_type = declared.upper()
    trace_id = _opt_str(body, "traceId")
    start = _time(body.get("startTime"), "body.startTime") or stamp
    if trace_id is None:  # legacy: an observation without a trace gets a wrapper trace of its own id
        trace_id = obs_id
    level = body.get("level")
    if level is not None and (not isinstance(level, str) or level not in LEVELS):
        raise EventError(f"body.level must be one of {sorted(LEVELS)}")
    metadata = body.get("metadata")
    end = _time(body.get("endTime"), "body.endTime")
    if obs_type == "EVENT" and end is None and create:
        end = start
    usage, cost = _usage_cost(body)
    environment = _opt_str(body, "environment")
    out.observations.append(
        {
            "id": obs_id,
            "trace_id": trace_id,
            "parent_observation_id": _opt_str(body, "parentObservationId"),
            "type": obs_type,
            "name": _opt_str(body, "name"),
            "start_time": start,
            "end_time": max(end, start) if end else None,
            "completion_start_time": _time(body.get("completionStartTime"), "body.completionStartTime"),
            "environment": environment,
            "level": level,
            "status_message": _opt_str(body, "statusMessage"),
            "version": _opt_str(body, "version"),
            "input": pack_io(io_text(body.get("input"))),
            "output": pack_io(io_text(body.get("output"))),
            "metadata": dumps(metadata if isinstance(metadata, dict) else {"metadata": metadata})
            if metadata is not None
            else None,
            "model": _opt_str(body, "model"),
            "model_parameters": dumps_or_none(_opt_dict(body, "modelParameters")),
            **usage_and_cost(usage, cost),
            "prompt_name": _opt_str(body, "promptName"),
            "prompt_version": _prompt_version(body.get("promptVersion")),
            "as_root": 0,
        }
    )
    out.traces.append({"id": trace_id, "timestamp": start, "environment": environment, "is_root": False})


def _prompt_version(value: Any) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    if not 0 <= value < 2**63:  # SQLite integers are 64-bit: a larger one would fail the whole batch
        raise EventError(f"body.promptVersion {value} is out of range")
    return value


def _usage_cost(body: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    usage = _opt_dict(body, "usageDetails")
    cost = _opt_dict(body, "costDetails")
    legacy = _opt_dict(body, "usage")
    if legacy and usage is None:
        usage = {
            "input": legacy.get("input", legacy.get("promptTokens")),
            "output": legacy.get("output", legacy.get("completionTokens")),
            "total": legacy.get("total", legacy.get("totalTokens")),
        }
        usage = {k: v for k, v in usage.items() if v is not None}
    if legacy and cost is None:
        cost = {
            k: legacy[f"{k}Cost"] for k in ("input", "output", "total") if legacy.get(f"{k}Cost") is not None
        }
    return usage, cost


def score_row(body: dict[str, Any]) -> dict[str, Any]:
    """One score body (``POST /api/public/scores``) -> stored row; raises EventError naming the problem."""
    out = MappedBatch()
    _score_create(body, now_iso(), out)
    return out.scores[0]


def _score_create(body: dict[str, Any], stamp: str, out: MappedBatch) -> None:
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise EventError("body.name is required and must be a non-empty string")
    value = body.get("value")
    data_type = body.get("dataType")
    if data_type is not None and (not isinstance(data_type, str) or data_type not in SCORE_TYPES):
        raise EventError(f"body.dataType must be one of {sorted(SCORE_TYPES)}")
    number, text, data_type = _score_value(value, data_type)
    source = body.get("source") or "API"
    if not isinstance(source, str) or source not in SCORE_SOURCES:
        raise EventError(f"body.source must be one of {sorted(SCORE_SOURCES)}")
    targets = [_opt_str(body, k) for k in ("traceId", "observationId", "sessionId", "datasetRunId")]
    if not any(targets):
        raise EventError("a score needs one of traceId, observationId, sessionId or datasetRunId")
    now = now_iso()
    out.scores.append(
        {
            "id": _opt_str(body, "id") or new_id(),
            "trace_id": targets[0],
            "observation_id": targets[1],
            "session_id": targets[2],
            "dataset_run_id": targets[3],
            "name": name,
            "value": number,
            "string_value": text,
            "data_type": data_type,
            "source": source,
            "comment": _opt_str(body, "comment"),
            "metadata": dumps_or_none(body.get("metadata")),
            "config_id": _opt_str(body, "configId"),
            "queue_id": _opt_str(body, "queueId"),
            "author_user_id": None,
            "environment": _opt_str(body, "environment") or "default",
            "timestamp": _time(body.get("timestamp"), "body.timestamp") or stamp,
            "created_at": now,
            "updated_at": now,
        }
    )


def _score_value(value: Any, data_type: str | None) -> tuple[float | None, str | None, str]:
    """Inflate a score value (server-ingestion.md §4.2)."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(value, bool):
        value, is_number = float(value), True
    if data_type is None:
        if not (is_number or isinstance(value, str)):
            raise EventError("body.value is required and must be a number or a string")
        data_type = "NUMERIC" if is_number else "CATEGORICAL"
    if data_type == "CATEGORICAL":
        if not isinstance(value, str):
            raise EventError("a CATEGORICAL score needs a string value")
        return None, value, data_type
    if not is_number:
        raise EventError(f"a {data_type} score needs a numeric value")
    if data_type == "BOOLEAN":
        if value not in (0, 1):
            raise EventError("a BOOLEAN score value must be 0 or 1")
        return float(value), "True" if value == 1 else "False", data_type
    return float(value), None, data_type


_HANDLERS: dict[str, Callable[[dict[str, Any], str, MappedBatch], None]] = {
    "trace-create": _trace_create,
    "score-create": _score_create,
}


def _opt_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise EventError(f"body.{key} must be a string")
    return value


def _opt_bool(body: dict[str, Any], key: str) -> bool | None:
    value = body.get(key)
    if value is not None and not isinstance(value, bool):
        raise EventError(f"body.{key} must be a boolean")
    return value


def _opt_dict(body: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = body.get(key)
    if value is not None and not isinstance(value, dict):
        raise EventError(f"body.{key} must be an object")
    return value


def _time(value: Any, where: str) -> str | None:
    if value is None:
        return None
    try:
        return parse_iso(value)
    except (ValueError, TypeError):
        raise EventError(f"{where} is not an ISO-8601 datetime: {value!r}") from None
