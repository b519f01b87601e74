"""Trace rows: merge of trace updates, and the trace read queries."""

from __future__ import annotations

import operator
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
# An upsert rather than INSERT OR REPLACE: a replaced row would be deleted and re-inserted (every index
# entry rewritten, and no delete trigger fired, which the row count kept by migration 6 relies on).
_INSERT = (
    f"INSERT INTO traces ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    f"ON CONFLICT(id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in COLUMNS if c != 'id')}"
)
_ROW_GETTER = operator.itemgetter(*COLUMNS)
_EMPTY_ROW = dict.fromkeys(COLUMNS)
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


_FALLBACK_FIELDS = (("name", "name_fallback"), ("input", "input_fallback"), ("output", "output_fallback"))
_SHALLOW_KEYS = 4  # id, timestamp, environment, is_root: a span that only says "this trace exists"


def _merge_one(row: dict[str, Any], update: dict[str, Any], metadata: dict[str, Any], tags: set[str]) -> None:
    stamp = update.get("timestamp")
    if stamp and (row["timestamp"] is None or stamp < row["timestamp"]):
        row["timestamp"] = stamp
    environment = update.get("environment")
    if environment and (row["environment"] is None or update["is_root"]):
        row["environment"] = environment
    if len(update) <= _SHALLOW_KEYS:
        return
    for field, fallback in _FALLBACK_FIELDS:
        value = update.get(field)
        if value is not None:
            row[field] = value
        elif row.get(field) is None:
            row[field] = update.get(fallback)
    for field in _OVERWRITE_IF_SET:
        value = update.get(field)
        if value is not None:
            row[field] = int(value) if field == "public" else value
    if update.get("metadata"):
        metadata.update(update["metadata"])
    if update.get("tags"):
        tags.update(update["tags"])
    if row.get("resource_id") is None and update.get("resource_id") is not None:
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
    _write(conn, rows, existing)
    _index_metadata(conn, rows, existing)
    tag_rows = [(tag, row["id"]) for row in rows for tag in row.pop("_tags")]
    if tag_rows:
        conn.executemany("INSERT OR IGNORE INTO trace_tags (tag, trace_id) VALUES (?, ?)", tag_rows)
    sessions = [(row["session_id"], row["environment"], now) for row in rows if row.get("session_id")]
    if sessions:
        conn.executemany(
            "INSERT OR IGNORE INTO sessions (id, environment, created_at) VALUES (?, ?, ?)", sessions
        )
    return rows


def _write(
    conn: sqlite3.Connection, rows: Sequence[dict[str, Any]], existing: dict[str, dict[str, Any]]
) -> None:
    """Insert new rows; update stored ones in the columns that changed (``updated_at`` always).

    Spans of one trace usually arrive over several requests, so most writes to a stored trace change
    nothing but ``updated_at``. An UPDATE rewrites the entry of every index over a column it SETs, whether
    or not the value changed (~3x the cost of a guarded one with the seven trace indexes), so only the
    changed columns are named."""
    fresh = [_ROW_GETTER({**_EMPTY_ROW, **row}) for row in rows if row["id"] not in existing]
    if fresh:
        conn.executemany(_INSERT, fresh)
    changed: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
    for row in rows:
        before = existing.get(row["id"])
        if before is None:
            continue
        columns = tuple(c for c in _UPDATABLE if row.get(c) != before.get(c))
        changed.setdefault(columns, []).append((*(row.get(c) for c in columns), row["updated_at"], row["id"]))
    for columns, values in changed.items():
        conn.executemany(_update_statement(columns), values)


_UPDATABLE = tuple(c for c in COLUMNS if c not in ("id", "created_at", "updated_at"))
_UPDATES: dict[tuple[str, ...], str] = {}


def _update_statement(columns: tuple[str, ...]) -> str:
    statement = _UPDATES.get(columns)
    if statement is None:
        assignments = "".join(f"{column} = ?, " for column in columns)
        statement = _UPDATES[columns] = f"UPDATE traces SET {assignments}updated_at = ? WHERE id = ?"
    return statement


# trace_metadata holds one (key, value, trace_id) entry per top-level scalar metadata member, so that
# metadata filters are index lookups instead of a json_extract per stored trace. SQLite's json_each fills
# it, so a value compares exactly as json_extract(metadata, '$."key"') does. JSON null never matches a
# filter; objects and arrays are left out as migration 5's backfill does (a filter value that looks like
# one is answered by json_extract instead: query._member_lookup).
_SCALAR_MEMBERS = (
    "SELECT j.key, j.value, ? FROM json_each(?) j WHERE j.type NOT IN ('object', 'array', 'null')"
)
_METADATA_ADD = f"INSERT OR IGNORE INTO trace_metadata (key, value, trace_id) {_SCALAR_MEMBERS}"
_METADATA_DROP = f"DELETE FROM trace_metadata WHERE (key, value, trace_id) IN ({_SCALAR_MEMBERS})"


def _index_metadata(
    conn: sqlite3.Connection, rows: Sequence[dict[str, Any]], existing: dict[str, dict[str, Any]]
) -> None:
    """Keep trace_metadata in step with the rows just written (only where the metadata changed)."""
    drops, adds = [], []
    for row in rows:
        before = (existing.get(row["id"]) or {}).get("metadata")
        if row["metadata"] == before:
            continue
        if before:
            drops.append((row["id"], before))
        if row["metadata"]:
            adds.append((row["id"], row["metadata"]))
    if drops:
        conn.executemany(_METADATA_DROP, drops)
    if adds:
        conn.executemany(_METADATA_ADD, adds)


def delete(conn: sqlite3.Connection, ids: Sequence[str]) -> int:
    """Delete traces with their observations, tags and trace-level scores."""
    deleted = 0
    for part in chunks(list(ids)):
        marks = ", ".join("?" * len(part))
        tagged = conn.execute(f"SELECT id, tags, metadata FROM traces WHERE id IN ({marks})", part).fetchall()
        # trace_tags is keyed (tag, trace_id); the row's own tag list names exactly the entries to drop
        conn.executemany(
            "DELETE FROM trace_tags WHERE tag = ? AND trace_id = ?",
            [(tag, trace_id) for trace_id, tags, _ in tagged for tag in loads(tags) or ()],
        )
        conn.executemany(_METADATA_DROP, [(trace_id, meta) for trace_id, _, meta in tagged if meta])
        deleted += conn.execute(f"DELETE FROM traces WHERE id IN ({marks})", part).rowcount
        conn.execute(f"DELETE FROM observations WHERE trace_id IN ({marks})", part)
        conn.execute(f"DELETE FROM scores WHERE trace_id IN ({marks})", part)
    return deleted


def get(conn: sqlite3.Connection, trace_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT * FROM traces WHERE id = ?", (trace_id,)).fetchone()
    return dict(row) if row else None
