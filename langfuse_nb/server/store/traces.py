"""Trace rows: merge of trace updates, and the trace read queries."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from langfuse_nb.server.store.resources import BlobCache
from langfuse_nb.server.values import dumps, loads, now_iso

COLUMNS = (
    "id",
    "timestamp",
    "name",
    "user_id",
    "session_id",
    "release",
    "version",
    "environment",
    "public",
    "bookmarked",
    "input",
    "output",
    "metadata",
    "tags",
    "resource_id",
    "scope_id",
    "created_at",
    "updated_at",
)
_INSERT = f"INSERT OR REPLACE INTO traces ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
_OVERWRITE_IF_SET = ("user_id", "session_id", "release", "version", "public")
_CHUNK = 800


def chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def fetch_many(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for part in chunks(list(ids)):
        sql = f"SELECT * FROM traces WHERE id IN ({', '.join('?' * len(part))})"
        for row in conn.execute(sql, part):
            found[row["id"]] = dict(row)
    return found


def merge(existing: dict[str, Any] | None, updates: Sequence[dict[str, Any]], now: str) -> dict[str, Any]:
    """Fold updates onto a stored row: earliest timestamp, latest non-null scalars, merged metadata/tags."""
    row = (
        dict(existing)
        if existing
        else {
            "id": updates[0]["id"],
            "timestamp": None,
            "environment": None,
            "bookmarked": 0,
            "created_at": now,
        }
    )
    metadata = loads(row.get("metadata")) or {}
    tags = set(loads(row.get("tags")) or ())
    for update in updates:
        _merge_one(row, update, metadata, tags)
    row["metadata"] = dumps(metadata) if metadata else None
    row["_tags"] = sorted(tags)
    row["tags"] = dumps(row["_tags"])
    row["updated_at"] = now
    return row


def _merge_one(row: dict[str, Any], update: dict[str, Any], metadata: dict[str, Any], tags: set[str]) -> None:
    stamp = update.get("timestamp")
    if stamp and (row["timestamp"] is None or stamp < row["timestamp"]):
        row["timestamp"] = stamp
    if update.get("environment") and (row["environment"] is None or update.get("is_root")):
        row["environment"] = update["environment"]
    for field in ("name", "input", "output"):
        if update.get(field) is not None:
            row[field] = update[field]
        elif update.get(f"{field}_fallback") is not None and row.get(field) is None:
            row[field] = update[f"{field}_fallback"]
    for field in _OVERWRITE_IF_SET:
        if update.get(field) is not None:
            row[field] = int(update[field]) if field == "public" else update[field]
    if update.get("metadata"):
        metadata.update(update["metadata"])
    if update.get("tags"):
        tags.update(update["tags"])
    if update.get("resource_id") is not None and row.get("resource_id") is None:
        row["resource_id"] = update["resource_id"]
        row["scope_id"] = update["scope_id"]


def upsert(
    conn: sqlite3.Connection, updates: Sequence[dict[str, Any]], blobs: BlobCache
) -> list[dict[str, Any]]:
    """Merge all updates (grouped by trace id) into stored rows in the caller's transaction."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for update in updates:
        if "_resource" in update:
            update["resource_id"] = blobs.intern(conn, update["_resource"])
            update["scope_id"] = blobs.intern(conn, update["_scope"])
        grouped.setdefault(update["id"], []).append(update)
    existing = fetch_many(conn, list(grouped))
    now = now_iso()
    rows = [merge(existing.get(trace_id), items, now) for trace_id, items in grouped.items()]
    for row in rows:
        row["timestamp"] = row["timestamp"] or now
        row["environment"] = row["environment"] or "default"
    conn.executemany(_INSERT, [tuple(row.get(c) for c in COLUMNS) for row in rows])
    tag_rows = [(tag, row["id"]) for row in rows for tag in row.pop("_tags")]
    if tag_rows:
        conn.executemany("INSERT OR IGNORE INTO trace_tags (tag, trace_id) VALUES (?, ?)", tag_rows)
    sessions = [(row["session_id"], row["environment"], now) for row in rows if row.get("session_id")]
    if sessions:
        conn.executemany(
            "INSERT OR IGNORE INTO sessions (id, environment, created_at) VALUES (?, ?, ?)", sessions
        )
    return rows


def delete(conn: sqlite3.Connection, ids: Sequence[str]) -> int:
    """Delete traces with their observations, tags and trace-level scores."""
    deleted = 0
    for part in chunks(list(ids)):
        marks = ", ".join("?" * len(part))
        deleted += conn.execute(f"DELETE FROM traces WHERE id IN ({marks})", part).rowcount
        conn.execute(f"DELETE FROM trace_tags WHERE trace_id IN ({marks})", part)
        conn.execute(f"DELETE FROM observations WHERE trace_id IN ({marks})", part)
        conn.execute(f"DELETE FROM scores WHERE trace_id IN ({marks})", part)
    return deleted


def get(conn: sqlite3.Connection, trace_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT * FROM traces WHERE id = ?", (trace_id,)).fetchone()
    return dict(row) if row else None
