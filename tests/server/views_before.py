"""The v1 observation and trace views as the server built them before issue 15's read rewrite (commit
300f72b), kept verbatim as the golden that the current code must match byte for byte."""

# ruff: noqa
# mypy: ignore-errors
from __future__ import annotations

import math
import sqlite3
import sys
from datetime import datetime, timezone
from typing import Any

from langfuse_nb.server import costs
from langfuse_nb.server.config import PROJECT_ID
from langfuse_nb.server.store import models, scores, traces
from langfuse_nb.server.store.resources import BlobCache
from langfuse_nb.server.values import iso_to_seconds, loads, parse_lenient


# A JSON text starts (after optional whitespace) with one of these; anything else is stored plain text,
# which would otherwise cost a raised-and-caught decode error per value (most outputs are plain text).
_JSON_STARTS = frozenset(' \t\n\r{["-0123456789tfn')


def read_io(text: str | None) -> Any:
    """Stored input/output as the API returns it: JSON-decoded when it parses; an empty string is null."""
    if not text:
        return None
    if not isinstance(text, str):  # a packed (compressed) value: parse_lenient unpacks it
        return parse_lenient(text)
    return parse_lenient(text) if text[0] in _JSON_STARTS else text


Record = dict[str, Any]  # one stored row by column name (dict lookups: sqlite3.Row searches its names)


def as_record(row: sqlite3.Row | Record) -> Record:
    return row if isinstance(row, dict) else dict(zip(row.keys(), row, strict=True))


def records(cursor: sqlite3.Cursor) -> list[Record]:
    """All rows of ``cursor`` as records, built once per query instead of per column read."""
    names = [column[0] for column in cursor.description]
    cursor.row_factory = None  # plain tuples: zip them with the names
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# price fields per built-in model id: the price table is fixed for the life of the process
_BUILTIN_PRICES: dict[str, dict[str, Any]] = {}


def _price_fields(model_id: str | None) -> dict[str, Any]:
    if model_id is None:
        return _NO_PRICES
    found = _BUILTIN_PRICES.get(model_id)
    if found is None:
        found = models.price_fields(model_id)
        if model_id in costs.builtin_by_id():  # project models can be deleted: never cached
            _BUILTIN_PRICES[model_id] = found
    return found


_NO_PRICES: dict[str, Any] = {"inputPrice": None, "outputPrice": None, "totalPrice": None}


def _input_output_sums(details: dict[str, Any]) -> tuple[Any, Any]:
    """Langfuse's reduction of usage/cost details, for "input" and "output" in one pass: every key starting
    with the prefix counts; None when none does (the additions of ``sum``, in the same order)."""
    sums: list[Any] = [None, None]
    for key, value in details.items():
        if isinstance(value, int | float):
            slot = 0 if key.startswith("input") else 1 if key.startswith("output") else None
            if slot is not None:
                sums[slot] = (0 if sums[slot] is None else sums[slot]) + value
    return sums[0], sums[1]


def epoch_sql(column: str) -> str:
    """SQL for a stored timestamp as Unix seconds with its microseconds (julianday would round them away)."""
    return f"(strftime('%s', substr({column}, 1, 19)) + substr({column}, 21, 6) / 1000000.0)"


def _instant(text: str) -> datetime:
    if len(text) == 27 and text[-1] == "Z":  # the stored fixed-width UTC form
        return datetime.fromisoformat(text[:-1])
    return datetime.fromtimestamp(iso_to_seconds(text) or 0.0, timezone.utc).replace(tzinfo=None)


def seconds_between(start: str | None, end: str | None) -> float | None:
    """Seconds from one stored timestamp to another, exact to the microsecond; None when one is missing."""
    if not start or not end:
        return None
    # datetime arithmetic: differences of epoch floats near 1.7e9 would be off in the 7th decimal
    return (_instant(end) - _instant(start)).total_seconds()


def _usage_fields(usage: dict[str, Any]) -> dict[str, Any]:
    if not usage:
        return _NO_USAGE
    given_input, given_output = _input_output_sums(usage)
    tokens = {
        "input": int(given_input or 0),
        "output": int(given_output or 0),
        "total": int(usage.get("total") or 0),
    }
    return {
        "usageDetails": {k: int(v) for k, v in usage.items()},
        "usage": {**tokens, "unit": "TOKENS"},
        "unit": "TOKENS",
        "promptTokens": tokens["input"],
        "completionTokens": tokens["output"],
        "totalTokens": tokens["total"],
    }


# the usage fields of an observation without usage (shared: the view is serialised, never mutated)
_NO_USAGE: dict[str, Any] = {
    "usageDetails": {},
    "usage": {"input": 0, "output": 0, "total": 0, "unit": "TOKENS"},
    "unit": "TOKENS",
    "promptTokens": 0,
    "completionTokens": 0,
    "totalTokens": 0,
}


def _cost_fields(row: Record, cost: dict[str, Any]) -> dict[str, Any]:
    total = cost.get("total", row["total_cost"])
    # columns added by later migrations may be absent from rows selected with an explicit column list
    model_id = row.get("model_id")
    input_cost, output_cost = _input_output_sums(cost)
    return {
        "costDetails": cost,
        "modelId": model_id,
        **_price_fields(model_id),  # the matched model's default-tier prices
        "usagePricingTierId": row.get("usage_pricing_tier_id"),
        "usagePricingTierName": row.get("usage_pricing_tier_name"),
        "calculatedInputCost": input_cost,
        "calculatedOutputCost": output_cost,
        # Langfuse reports 0 (not null) when no total cost is known
        "calculatedTotalCost": total if isinstance(total, int | float) else 0.0,
    }


def _no_cost_fields(row: Record) -> dict[str, Any]:
    """``_cost_fields`` of a row without cost details (the common case), without the empty-dict work."""
    total = row["total_cost"]
    model_id = row.get("model_id")
    return {
        "costDetails": {},
        "modelId": model_id,
        **_price_fields(model_id),
        "usagePricingTierId": row.get("usage_pricing_tier_id"),
        "usagePricingTierName": row.get("usage_pricing_tier_name"),
        "calculatedInputCost": None,
        "calculatedOutputCost": None,
        "calculatedTotalCost": total if isinstance(total, int | float) else 0.0,
    }


def to_view(
    row: sqlite3.Row | Record, conn: sqlite3.Connection, blobs: BlobCache, project_id: str = PROJECT_ID
) -> dict[str, Any]:
    """The v1 ``ObservationsView`` shape, field for field as Langfuse returns it."""
    row = as_record(row)
    start, end, first_token = row["start_time"], row["end_time"], row["completion_start_time"]
    metadata = loads(row["metadata"]) or {}
    if row["resource_id"] is not None:
        metadata["resourceAttributes"] = blobs.body(conn, row["resource_id"])
        metadata["scope"] = blobs.body(conn, row["scope_id"])
    view = {
        "id": row["id"],
        "traceId": row["trace_id"],
        "type": row["type"],
        "name": row["name"],
        "startTime": start,
        "endTime": end,
        "completionStartTime": first_token,
        "model": row["model"],
        "modelParameters": loads(row["model_parameters"]) or {},
        "input": read_io(row["input"]),
        "output": read_io(row["output"]),
        "metadata": metadata,
        "version": row["version"],
        "level": row["level"] or "DEFAULT",
        "statusMessage": row["status_message"],
        "parentObservationId": row["parent_observation_id"],
        "environment": row["environment"] or "default",
        "promptId": row["prompt_id"],
        "promptName": row["prompt_name"],
        "promptVersion": row["prompt_version"],
    }
    usage, cost = row["usage_details"], row["cost_details"]
    view.update(_usage_fields(loads(usage)) if usage else _NO_USAGE)
    view.update(_cost_fields(row, loads(cost) or {}) if cost else _no_cost_fields(row))
    view["latency"] = seconds_between(start, end)
    view["timeToFirstToken"] = seconds_between(start, first_token) if first_token else None
    view["projectId"] = project_id
    view["createdAt"] = row["created_at"]
    view["updatedAt"] = row["updated_at"]
    if row["experiment"]:
        view.update(loads(row["experiment"]))
    return view


FIELD_GROUPS = {"core", "io", "scores", "observations", "metrics"}


def _finite(total: float) -> float:
    """Sums of huge costs can overflow to inf, which JSON renders as null: the SDK's models reject that."""
    return total if math.isfinite(total) else float(sys.float_info.max)


def _field_groups(fields: str | None) -> set[str]:
    """The requested groups; like Langfuse, unknown names are ignored and ``core`` is always included."""
    if not fields:
        return set(FIELD_GROUPS)
    return ({part.strip() for part in fields.split(",")} & FIELD_GROUPS) | {"core"}


def _with_summaries(
    conn: sqlite3.Connection,
    rows: list[dict[str, Any]],
    groups: set[str],
    blobs: BlobCache,
    project_id: str = PROJECT_ID,
) -> list[dict[str, Any]]:
    """Trace list items with observation/score ids, latency and cost, computed for the page only."""
    ids = [row["id"] for row in rows]
    summary: dict[str, dict[str, Any]] = {
        i: {"obs": [], "scores": [], "start": None, "end": None, "cost": 0.0} for i in ids
    }
    if ids:
        marks = ", ".join("?" * len(ids))
        for trace_id, obs_id, start, end, cost in conn.execute(
            f"SELECT trace_id, id, start_time, end_time, total_cost FROM observations "
            f"WHERE trace_id IN ({marks}) ORDER BY start_time",
            ids,
        ):
            entry = summary[trace_id]
            entry["obs"].append(obs_id)
            entry["start"] = start if entry["start"] is None or start < entry["start"] else entry["start"]
            finish = end or start
            entry["end"] = finish if entry["end"] is None or finish > entry["end"] else entry["end"]
            entry["cost"] += cost or 0.0
        for trace_id, score_id in conn.execute(
            f"SELECT trace_id, id FROM scores WHERE trace_id IN ({marks}) ORDER BY timestamp", ids
        ):
            summary[trace_id]["scores"].append(score_id)
    return [
        _list_item(
            trace_view(row, conn, blobs, io="io" in groups, project_id=project_id), summary[row["id"]], groups
        )
        for row in rows
    ]


def _list_item(view: dict[str, Any], entry: dict[str, Any], groups: set[str]) -> dict[str, Any]:
    metrics = "metrics" in groups
    latency = seconds_between(entry["start"], entry["end"]) or 0.0
    view.update(
        {
            "latency": latency if metrics else -1,
            "totalCost": _finite(entry["cost"]) if metrics else -1,
            "observations": entry["obs"] if "observations" in groups else [],
            "scores": entry["scores"] if "scores" in groups else [],
        }
    )
    return view


def trace_view(
    row: dict[str, Any] | sqlite3.Row,
    conn: sqlite3.Connection,
    blobs: BlobCache,
    io: bool = True,
    project_id: str = PROJECT_ID,
) -> dict[str, Any]:
    view = {
        "id": row["id"],
        "timestamp": row["timestamp"],
        "name": row["name"],
        "sessionId": row["session_id"],
        "release": row["release"],
        "version": row["version"],
        "userId": row["user_id"],
        "tags": loads(row["tags"]) or [],
        "public": bool(row["public"]),
        "environment": row["environment"],
        "bookmarked": bool(row["bookmarked"]),
        "projectId": project_id,
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "externalId": None,
        "htmlPath": f"/project/{project_id}/traces/{row['id']}",
    }
    if io:
        metadata = loads(row["metadata"]) or {}
        if row["resource_id"] is not None:  # interned once, shared by every trace of that resource
            metadata["resourceAttributes"] = blobs.body(conn, row["resource_id"])
            metadata["scope"] = blobs.body(conn, row["scope_id"])
        view.update(
            {
                "input": read_io(row["input"]),
                "output": read_io(row["output"]),
                "metadata": metadata,
            }
        )
    return view


def trace_detail(
    conn: sqlite3.Connection, blobs: BlobCache, traceId: str, project_id: str = PROJECT_ID
) -> dict[str, Any] | None:
    """``TraceWithFullDetails`` of one trace (also drawn by the trace page), None when unknown."""
    row = traces.get(conn, traceId)
    if row is None:
        return None
    obs_rows = records(
        conn.execute("SELECT * FROM observations WHERE trace_id = ? ORDER BY start_time, id", (traceId,))
    )
    obs_views = [to_view(o, conn, blobs, project_id) for o in obs_rows]
    view = trace_view(row, conn, blobs, project_id=project_id)
    starts = [o["start_time"] for o in obs_rows]
    ends = [o["end_time"] or o["start_time"] for o in obs_rows]
    view.update(
        {
            "latency": seconds_between(min(starts), max(ends)) if obs_rows else 0.0,
            "totalCost": _finite(sum(o["total_cost"] or 0.0 for o in obs_rows)),
            "observations": obs_views,
            "scores": [
                scores.to_view(s, v1=True, project_id=project_id) for s in scores.for_traces(conn, [traceId])
            ],
        }
    )
    return view
