"""Interned JSON blobs (OTel resources and scopes) shared by many observations."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from typing import Any

from langfuse_nb.server.values import loads


class BlobCache:
    """Two-way cache text <-> id; the rows themselves never change once written."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._bodies: dict[int, Any] = {}
        self._lock = threading.Lock()

    def intern(self, conn: sqlite3.Connection, text: str) -> int:
        """Id of ``text``; inserts it inside the caller's write transaction when new."""
        found = self._ids.get(text)
        if found is not None:
            return found
        digest = hashlib.sha256(text.encode()).hexdigest()
        conn.execute("INSERT OR IGNORE INTO resources (digest, body) VALUES (?, ?)", (digest, text))
        blob_id = conn.execute("SELECT id FROM resources WHERE digest = ?", (digest,)).fetchone()[0]
        with self._lock:
            self._ids[text] = blob_id
        return blob_id

    def reset(self) -> None:
        """Forget learned ids (after a rolled-back transaction they may not exist)."""
        with self._lock:
            self._ids.clear()

    def body(self, conn: sqlite3.Connection, blob_id: int | None) -> Any:
        if blob_id is None:
            return None
        found = self._bodies.get(blob_id)
        if found is None:
            row = conn.execute("SELECT body FROM resources WHERE id = ?", (blob_id,)).fetchone()
            found = loads(row[0]) if row else {}
            with self._lock:
                self._bodies[blob_id] = found
        return found
