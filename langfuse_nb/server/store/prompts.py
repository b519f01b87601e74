"""Prompt versions: creation with auto versions, unique labels, tag inheritance; grouped listing."""

from __future__ import annotations

import sqlite3
from typing import Any

from langfuse_nb.server.config import PROJECT_ID
from langfuse_nb.server.errors import BadRequest, NotFound
from langfuse_nb.server.values import dumps, loads, new_id, now_iso

LATEST = "latest"
PRODUCTION = "production"
_COLUMNS = (
    "id",
    "name",
    "version",
    "type",
    "prompt",
    "config",
    "labels",
    "tags",
    "commit_message",
    "created_by",
    "created_at",
    "updated_at",
)


def versions(conn: sqlite3.Connection, name: str) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT * FROM prompts WHERE name = ? ORDER BY version", (name,)).fetchall()
    return [dict(row) for row in rows]


def create(conn: sqlite3.Connection, spec: dict[str, Any]) -> dict[str, Any]:
    """Store a new version (max + 1); its labels plus ``latest`` move away from older versions."""
    existing = versions(conn, spec["name"])
    if existing and existing[-1]["type"] != spec["type"]:
        raise BadRequest("Previous versions have different prompt type; create a new prompt name instead")
    labels = _unique([*spec["labels"], LATEST])
    tags = spec["tags"] if spec["tags"] is not None else (loads(existing[-1]["tags"]) if existing else [])
    now = now_iso()
    row = {
        "id": new_id(),
        "name": spec["name"],
        "version": (existing[-1]["version"] + 1) if existing else 1,
        "type": spec["type"],
        "prompt": dumps(spec["prompt"]),
        "config": dumps(spec["config"]),
        "labels": dumps(labels),
        "tags": dumps(tags),
        "commit_message": spec["commit_message"],
        "created_by": "API",
        "created_at": now,
        "updated_at": now,
    }
    _take_labels(conn, existing, labels, now)
    if spec["tags"] is not None:  # given tags apply to every version of the prompt
        conn.execute("UPDATE prompts SET tags = ? WHERE name = ?", (dumps(tags), spec["name"]))
    conn.execute(
        f"INSERT INTO prompts ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
        tuple(row[c] for c in _COLUMNS),
    )
    return row


def add_labels(conn: sqlite3.Connection, name: str, version: int, new_labels: list[str]) -> dict[str, Any]:
    """Union the version's labels with ``new_labels`` and remove those labels from other versions."""
    existing = versions(conn, name)
    target = next((row for row in existing if row["version"] == version), None)
    if target is None:
        raise NotFound(f"Prompt not found: '{name}' with version {version}")
    now = now_iso()
    others = [row for row in existing if row["version"] != version]
    _take_labels(conn, others, new_labels, now)
    target["labels"] = dumps(_unique([*loads(target["labels"]), *new_labels]))
    target["updated_at"] = now
    conn.execute(
        "UPDATE prompts SET labels = ?, updated_at = ? WHERE id = ?", (target["labels"], now, target["id"])
    )
    return target


def _take_labels(conn: sqlite3.Connection, rows: list[dict[str, Any]], labels: list[str], now: str) -> None:
    wanted = set(labels)
    for row in rows:
        current = loads(row["labels"])
        kept = [label for label in current if label not in wanted]
        if kept != current:
            row["labels"] = dumps(kept)
            conn.execute(
                "UPDATE prompts SET labels = ?, updated_at = ? WHERE id = ?", (row["labels"], now, row["id"])
            )


def find(conn: sqlite3.Connection, name: str, version: int | None, label: str | None) -> dict[str, Any]:
    if version is not None and label is not None:
        raise BadRequest("Cannot specify both version and label")
    rows = versions(conn, name)
    if version is not None:
        found = next((row for row in rows if row["version"] == version), None)
        where = f"with version {version}"
    else:
        label = label or PRODUCTION
        found = next((row for row in rows if label in loads(row["labels"])), None)
        where = f"with label '{label}'"
    if found is None:
        raise NotFound(f"Prompt not found: '{name}' {where}")
    return found


def delete(conn: sqlite3.Connection, name: str, version: int | None, label: str | None) -> int:
    rows = versions(conn, name)
    doomed = [
        row
        for row in rows
        if (version is None or row["version"] == version) and (label is None or label in loads(row["labels"]))
    ]
    if not doomed:
        raise NotFound(f"Prompt not found: '{name}'")
    conn.executemany("DELETE FROM prompts WHERE id = ?", [(row["id"],) for row in doomed])
    remaining = [row for row in rows if row not in doomed]
    if remaining and not any(LATEST in loads(row["labels"]) for row in remaining):
        newest = remaining[-1]  # keep `latest` pointing at the newest surviving version
        conn.execute(
            "UPDATE prompts SET labels = ? WHERE id = ?",
            (dumps([*loads(newest["labels"]), LATEST]), newest["id"]),
        )
    return len(doomed)


def to_view(row: dict[str, Any], project_id: str = PROJECT_ID) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "version": row["version"],
        "type": row["type"],
        "prompt": loads(row["prompt"]),
        "config": loads(row["config"]),
        "labels": loads(row["labels"]),
        "tags": loads(row["tags"]),
        "commitMessage": row["commit_message"],
        "resolutionGraph": None,
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "createdBy": row["created_by"],
        "projectId": project_id,
        "isActive": None,
    }


def list_grouped(
    conn: sqlite3.Connection, where_sql: str, params: list[Any], limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """One entry per prompt name among the versions matching the filter."""
    names = [
        r[0]
        for r in conn.execute(
            # by name, as Langfuse pages prompts (stable while versions are added)
            f"SELECT name FROM prompts {where_sql} GROUP BY name ORDER BY name LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
    ]
    total = conn.execute(f"SELECT count(DISTINCT name) FROM prompts {where_sql}", params).fetchone()[0]
    data = []
    for name in names:
        rows = conn.execute(
            f"SELECT * FROM prompts {where_sql} {'AND' if where_sql else 'WHERE'} name = ? ORDER BY version",
            [*params, name],
        ).fetchall()
        newest = max(rows, key=lambda r: r["updated_at"])
        data.append(
            {
                "name": name,
                "type": rows[-1]["type"],
                "versions": [r["version"] for r in rows],
                "labels": _unique([label for r in rows for label in loads(r["labels"])]),
                "tags": _unique([tag for r in rows for tag in loads(r["tags"])]),
                "lastUpdatedAt": newest["updated_at"],
                "lastConfig": loads(rows[-1]["config"]),
            }
        )
    return data, total


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))
