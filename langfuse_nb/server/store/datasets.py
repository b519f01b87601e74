"""Datasets, dataset items, dataset runs and run items."""

from __future__ import annotations

import sqlite3
from typing import Any

from langfuse_nb.server.config import PROJECT_ID
from langfuse_nb.server.errors import BadRequest, NotFound
from langfuse_nb.server.values import dumps_or_none, loads, new_id, now_iso


def _row(conn: sqlite3.Connection, sql: str, *params: Any) -> dict[str, Any] | None:
    found = conn.execute(sql, params).fetchone()
    return dict(found) if found else None


# ---- datasets ---------------------------------------------------------------------------------------------


def by_name(conn: sqlite3.Connection, name: str) -> dict[str, Any]:
    found = _row(conn, "SELECT * FROM datasets WHERE name = ?", name)
    if found is None:
        raise NotFound(f"Dataset {name} not found")
    return found


def upsert(conn: sqlite3.Connection, spec: dict[str, Any]) -> dict[str, Any]:
    """Create the dataset, or update the given fields of the one with that name."""
    now = now_iso()
    fields = {
        "description": spec.get("description"),
        "metadata": dumps_or_none(spec.get("metadata")),
        "input_schema": dumps_or_none(spec.get("inputSchema")),
        "expected_output_schema": dumps_or_none(spec.get("expectedOutputSchema")),
    }
    existing = _row(conn, "SELECT * FROM datasets WHERE name = ?", spec["name"])
    if existing is None:
        conn.execute(
            "INSERT INTO datasets (id, name, description, metadata, input_schema, expected_output_schema, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (new_id(), spec["name"], *fields.values(), now, now),
        )
    else:
        updates = {k: v for k, v in fields.items() if v is not None}
        sets = "".join(f"{k} = ?, " for k in updates)
        conn.execute(
            f"UPDATE datasets SET {sets}updated_at = ? WHERE id = ?", (*updates.values(), now, existing["id"])
        )
    return by_name(conn, spec["name"])


def to_view(row: dict[str, Any], project_id: str = PROJECT_ID) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "metadata": loads(row["metadata"]),
        "inputSchema": loads(row["input_schema"]),
        "expectedOutputSchema": loads(row["expected_output_schema"]),
        "projectId": project_id,
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }


# ---- items ------------------------------------------------------------------------------------------------

_ITEM_FIELDS = {
    "input": "input",
    "expectedOutput": "expected_output",
    "metadata": "metadata",
    "sourceTraceId": "source_trace_id",
    "sourceObservationId": "source_observation_id",
    "status": "status",
}
_JSON_FIELDS = {"input", "expected_output", "metadata"}


def upsert_item(conn: sqlite3.Connection, spec: dict[str, Any]) -> dict[str, Any]:
    """Upsert by id; on update, fields given as null keep their stored value."""
    dataset = by_name(conn, spec["datasetName"])
    values = {column: spec.get(key) for key, column in _ITEM_FIELDS.items()}
    values = {c: dumps_or_none(v) if c in _JSON_FIELDS else v for c, v in values.items()}
    item_id = spec.get("id") or new_id()
    existing = _row(conn, "SELECT * FROM dataset_items WHERE id = ?", item_id)
    now = now_iso()
    if existing is None:
        values["status"] = values["status"] or "ACTIVE"
        columns = ", ".join(values)
        conn.execute(
            f"INSERT INTO dataset_items (id, dataset_id, {columns}, created_at, updated_at) "
            f"VALUES (?, ?, {', '.join('?' * len(values))}, ?, ?)",
            (item_id, dataset["id"], *values.values(), now, now),
        )
    elif existing["dataset_id"] != dataset["id"]:
        raise NotFound(f"Dataset item {item_id} belongs to another dataset")
    else:
        updates = {c: v for c, v in values.items() if v is not None}
        sets = "".join(f"{c} = ?, " for c in updates)
        conn.execute(
            f"UPDATE dataset_items SET {sets}updated_at = ? WHERE id = ?", (*updates.values(), now, item_id)
        )
    return get_item(conn, item_id)


_ITEM_SELECT = (
    "SELECT i.*, d.name AS dataset_name FROM dataset_items i JOIN datasets d ON d.id = i.dataset_id"
)


def get_item(conn: sqlite3.Connection, item_id: str) -> dict[str, Any]:
    found = _row(conn, f"{_ITEM_SELECT} WHERE i.id = ?", item_id)
    if found is None:
        raise NotFound(f"Dataset item {item_id} not found")
    return found


def list_items(
    conn: sqlite3.Connection,
    dataset_id: str | None,
    source_trace_id: str | None,
    source_observation_id: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    clauses, params = [], []
    for column, value in (
        ("i.dataset_id", dataset_id),
        ("i.source_trace_id", source_trace_id),
        ("i.source_observation_id", source_observation_id),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = conn.execute(
        f"{_ITEM_SELECT} {where} ORDER BY i.created_at DESC, i.rowid DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    total = conn.execute(f"SELECT count(*) FROM dataset_items i {where}", params).fetchone()[0]
    return [dict(r) for r in rows], total


def delete_item(conn: sqlite3.Connection, item_id: str) -> None:
    if not conn.execute("DELETE FROM dataset_items WHERE id = ?", (item_id,)).rowcount:
        raise NotFound(f"Dataset item {item_id} not found")


def item_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "status": row["status"],
        "input": loads(row["input"]),
        "expectedOutput": loads(row["expected_output"]),
        "metadata": loads(row["metadata"]),
        "sourceTraceId": row["source_trace_id"],
        "sourceObservationId": row["source_observation_id"],
        "datasetId": row["dataset_id"],
        "datasetName": row["dataset_name"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "mediaReferences": [],
    }


# ---- runs -------------------------------------------------------------------------------------------------

_RUN_SELECT = "SELECT r.*, d.name AS dataset_name FROM dataset_runs r JOIN datasets d ON d.id = r.dataset_id"


def create_run_item(conn: sqlite3.Connection, spec: dict[str, Any]) -> dict[str, Any]:
    """Create the run by name when missing (existing runs stay unchanged), then the run item."""
    item = get_item(conn, spec["datasetItemId"])
    if item["status"] != "ACTIVE":
        raise NotFound(f"Dataset item {item['id']} is archived")
    trace_id = spec.get("traceId")
    if trace_id is None and spec.get("observationId"):
        found = conn.execute(
            "SELECT trace_id FROM observations WHERE id = ?", (spec["observationId"],)
        ).fetchone()
        trace_id = found[0] if found else None
    if trace_id is None:
        raise NotFound("No trace found: give a traceId or the id of an ingested observation")
    now = now_iso()
    run = _row(
        conn,
        "SELECT * FROM dataset_runs WHERE dataset_id = ? AND name = ?",
        item["dataset_id"],
        spec["runName"],
    )
    if run is None:
        run = {"id": new_id(), "name": spec["runName"]}
        conn.execute(
            "INSERT INTO dataset_runs (id, dataset_id, name, description, metadata, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                run["id"],
                item["dataset_id"],
                spec["runName"],
                spec.get("runDescription"),
                dumps_or_none(spec.get("metadata")),
                now,
                now,
            ),
        )
    run_item = {
        "id": new_id(),
        "dataset_run_id": run["id"],
        "dataset_run_name": run["name"],
        "dataset_item_id": item["id"],
        "trace_id": trace_id,
        "observation_id": spec.get("observationId"),
        "created_at": now,
        "updated_at": now,
    }
    conn.execute(
        "INSERT INTO dataset_run_items (id, dataset_run_id, dataset_item_id, trace_id, observation_id, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (run_item["id"], run["id"], item["id"], trace_id, run_item["observation_id"], now, now),
    )
    return run_item


def get_run(conn: sqlite3.Connection, dataset_name: str, run_name: str) -> dict[str, Any]:
    found = _row(conn, f"{_RUN_SELECT} WHERE d.name = ? AND r.name = ?", dataset_name, run_name)
    if found is None:
        raise NotFound(f"Dataset run {run_name!r} not found in dataset {dataset_name!r}")
    return found


def run_by_dataset_id(conn: sqlite3.Connection, dataset_id: str, run_name: str) -> dict[str, Any]:
    found = _row(conn, f"{_RUN_SELECT} WHERE r.dataset_id = ? AND r.name = ?", dataset_id, run_name)
    if found is None:
        raise NotFound(f"Dataset run {run_name!r} not found for dataset id {dataset_id!r}")
    return found


def run_by_id(conn: sqlite3.Connection, dataset_id: str, run_id: str) -> dict[str, Any] | None:
    return _row(conn, f"{_RUN_SELECT} WHERE r.dataset_id = ? AND r.id = ?", dataset_id, run_id)


def list_runs(
    conn: sqlite3.Connection, dataset_id: str, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    rows = conn.execute(
        f"{_RUN_SELECT} WHERE r.dataset_id = ? ORDER BY r.created_at DESC, r.rowid DESC LIMIT ? OFFSET ?",
        (dataset_id, limit, offset),
    ).fetchall()
    total = conn.execute("SELECT count(*) FROM dataset_runs WHERE dataset_id = ?", (dataset_id,)).fetchone()[
        0
    ]
    return [dict(r) for r in rows], total


def run_items(
    conn: sqlite3.Connection,
    run: dict[str, Any],
    limit: int = -1,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    rows = conn.execute(
        "SELECT * FROM dataset_run_items WHERE dataset_run_id = ? ORDER BY created_at, rowid "
        "LIMIT ? OFFSET ?",
        (run["id"], limit, offset),
    ).fetchall()
    total = conn.execute(
        "SELECT count(*) FROM dataset_run_items WHERE dataset_run_id = ?", (run["id"],)
    ).fetchone()[0]
    return [{**dict(r), "dataset_run_name": run["name"]} for r in rows], total


def delete_run(conn: sqlite3.Connection, run: dict[str, Any]) -> None:
    conn.execute("DELETE FROM dataset_run_items WHERE dataset_run_id = ?", (run["id"],))
    conn.execute("DELETE FROM dataset_runs WHERE id = ?", (run["id"],))


def run_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "metadata": loads(row["metadata"]),
        "datasetId": row["dataset_id"],
        "datasetName": row["dataset_name"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }


def run_item_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "datasetRunId": row["dataset_run_id"],
        "datasetRunName": row["dataset_run_name"],
        "datasetItemId": row["dataset_item_id"],
        "traceId": row["trace_id"],
        "observationId": row["observation_id"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }


def require_string(spec: dict[str, Any], key: str) -> str:
    value = spec.get(key)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"'{key}' is required and must be a non-empty string")
    return value
