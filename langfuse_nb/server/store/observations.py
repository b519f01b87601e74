"""Observation rows: upsert (OTLP and legacy events) and the API view."""

from __future__ import annotations

import operator
import sqlite3
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from langfuse_nb.server import costs
from langfuse_nb.server.config import PROJECT_ID
from langfuse_nb.server.store import models
from langfuse_nb.server.store.resources import BlobCache
from langfuse_nb.server.values import iso_to_seconds, loads, now_iso, parse_lenient

COLUMNS = (
    "id",
    "trace_id",
    "parent_observation_id",
    "type",
    "name",
    "start_time",
    "end_time",
    "completion_start_time",
    "environment",
    "level",
    "status_message",
    "version",
    "input",
    "output",
    "metadata",
    "model",
    "model_parameters",
    "usage_details",
    "cost_details",
    "total_cost",
    "prompt_id",
    "prompt_name",
    "prompt_version",
    "as_root",
    "resource_id",
    "scope_id",
    "experiment",
    "created_at",
    "updated_at",
    # usage and cost as the client sent them; the columns above hold the computed ones (store/models.py)
    "provided_usage_details",
    "provided_cost_details",
    "model_id",
    "usage_pricing_tier_id",
    "usage_pricing_tier_name",
)
# first value wins for these (server-ingestion.md §3); everything else: a later non-null value wins
_KEEP = {"id", "trace_id", "start_time", "created_at", "environment", "resource_id", "scope_id"}
_MERGED = {"metadata"}


def _update_clause(column: str) -> str:
    if column in _KEEP:
        return f"{column} = coalesce(observations.{column}, excluded.{column})"
    if column in _MERGED:
        return (
            f"{column} = CASE WHEN excluded.{column} IS NULL THEN observations.{column} "
            f"WHEN observations.{column} IS NULL THEN excluded.{column} "
            f"ELSE json_patch(observations.{column}, excluded.{column}) END"
        )
    return f"{column} = coalesce(excluded.{column}, observations.{column})"


_UPSERT = (
    f"INSERT INTO observations ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    f"ON CONFLICT(id) DO UPDATE SET {', '.join(_update_clause(c) for c in COLUMNS if c != 'id')}"
)


def link_prompts(conn: sqlite3.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Attach promptId when name+version match a stored prompt, else clear the prompt fields."""
    cache: dict[tuple[str, int], str | None] = {}
    for row in rows:
        name, version = row.get("prompt_name"), row.get("prompt_version")
        if not isinstance(name, str) or not isinstance(version, int):
            row["prompt_name"] = row["prompt_version"] = row["prompt_id"] = None
            continue
        key = (name, version)
        if key not in cache:
            found = conn.execute("SELECT id FROM prompts WHERE name = ? AND version = ?", key).fetchone()
            cache[key] = found[0] if found else None
        row["prompt_id"] = cache[key]
        if cache[key] is None:
            row["prompt_name"] = row["prompt_version"] = None


_ROW_GETTER = operator.itemgetter(*COLUMNS)
_EMPTY_ROW = dict.fromkeys(COLUMNS)


def upsert(conn: sqlite3.Connection, rows: Sequence[dict[str, Any]], blobs: BlobCache) -> None:
    now = now_iso()
    merged_later = models.prepare(conn, rows)  # cost columns of new rows; merged ones after the upsert
    values = []
    for row in rows:
        if "_resource" in row:
            row["resource_id"] = blobs.intern(conn, row["_resource"])
            row["scope_id"] = blobs.intern(conn, row["_scope"])
        row["created_at"] = row["updated_at"] = now
        try:
            values.append(_ROW_GETTER(row))  # itemgetter: far cheaper than a per-column loop
        except KeyError:  # legacy ingestion events leave columns out; OTLP rows carry every one
            values.append(_ROW_GETTER({**_EMPTY_ROW, **row}))
    conn.executemany(_UPSERT, values)
    models.recompute(conn, merged_later)


def get(conn: sqlite3.Connection, observation_id: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM observations WHERE id = ?", (observation_id,)).fetchone()


def trace_of(conn: sqlite3.Connection, observation_id: str) -> str | None:
    row = conn.execute("SELECT trace_id FROM observations WHERE id = ?", (observation_id,)).fetchone()
    return row[0] if row else None


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
