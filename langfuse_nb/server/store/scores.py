"""Score rows: upsert by id and the v1/v2 views."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from langfuse_nb.server.config import PROJECT_ID
from langfuse_nb.server.values import dumps_or_none, loads

COLUMNS = (
    "id",
    "trace_id",
    "observation_id",
    "session_id",
    "dataset_run_id",
    "name",
    "value",
    "string_value",
    "data_type",
    "source",
    "comment",
    "metadata",
    "config_id",
    "queue_id",
    "author_user_id",
    "environment",
    "timestamp",
    "created_at",
    "updated_at",
)
_UPSERT = (
    f"INSERT INTO scores ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    "ON CONFLICT(id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c not in ("id", "created_at"))
)


def upsert(conn: sqlite3.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace scores; a missing traceId is resolved from the observation."""
    for row in rows:
        if row.get("trace_id") is None and row.get("observation_id"):
            found = conn.execute(
                "SELECT trace_id FROM observations WHERE id = ?", (row["observation_id"],)
            ).fetchone()
            row["trace_id"] = found[0] if found else None
    conn.executemany(_UPSERT, [tuple(row.get(c) for c in COLUMNS) for row in rows])


def resolve_missing_traces(conn: sqlite3.Connection, observation_ids: Sequence[str]) -> None:
    """Scores that arrived before their observation get its trace id once it is known."""
    if conn.execute("SELECT 1 FROM scores WHERE trace_id IS NULL LIMIT 1").fetchone() is None:
        return  # the usual case: nothing is waiting, skip the per-id probes
    for start in range(0, len(observation_ids), 800):
        part = observation_ids[start : start + 800]
        marks = ", ".join("?" * len(part))
        conn.execute(
            "UPDATE scores SET trace_id = "
            "(SELECT trace_id FROM observations o WHERE o.id = scores.observation_id) "
            f"WHERE trace_id IS NULL AND observation_id IN ({marks})",
            part,
        )


def get(conn: sqlite3.Connection, score_id: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM scores WHERE id = ?", (score_id,)).fetchone()


def delete(conn: sqlite3.Connection, score_id: str) -> bool:
    return conn.execute("DELETE FROM scores WHERE id = ?", (score_id,)).rowcount > 0


def for_traces(conn: sqlite3.Connection, trace_ids: Sequence[str]) -> list[sqlite3.Row]:
    if not trace_ids:
        return []
    marks = ", ".join("?" * len(trace_ids))
    return conn.execute(
        f"SELECT * FROM scores WHERE trace_id IN ({marks}) ORDER BY timestamp, rowid", list(trace_ids)
    ).fetchall()


def to_view(
    row: sqlite3.Row | dict[str, Any], *, v1: bool = False, project_id: str = PROJECT_ID
) -> dict[str, Any]:
    """``Score`` (v2) or ``ScoreV1`` with every field Langfuse returns; the value is never null."""
    view = {
        "id": row["id"],
        "traceId": row["trace_id"],
        "observationId": row["observation_id"],
        "name": row["name"],
        "source": row["source"],
        "timestamp": row["timestamp"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "authorUserId": row["author_user_id"],
        "comment": row["comment"],
        "metadata": loads(row["metadata"]) or {},
        "configId": row["config_id"],
        "queueId": row["queue_id"],
        "environment": row["environment"],
        "dataType": row["data_type"],
        "value": row["value"] if row["value"] is not None else 0.0,
        # Langfuse returns stringValue on every score: null for numeric ones
        "stringValue": row["string_value"],
        "projectId": project_id,
    }
    if not v1:
        view["sessionId"] = row["session_id"]
        view["datasetRunId"] = row["dataset_run_id"]
    if row["data_type"] in ("CATEGORICAL", "BOOLEAN"):
        view["stringValue"] = row["string_value"] or ""  # required there: never null
    return view


def metadata_text(value: Any) -> str | None:
    return dumps_or_none(value)
