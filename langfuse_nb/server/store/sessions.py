"""Session rows (created as traces with a sessionId arrive) and their view."""

from __future__ import annotations

import sqlite3
from typing import Any

from langfuse_nb.server.config import PROJECT_ID


def get(conn: sqlite3.Connection, session_id: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()


def to_view(row: sqlite3.Row, project_id: str = PROJECT_ID) -> dict[str, Any]:
    return {
        "id": row["id"],
        "createdAt": row["created_at"],
        "projectId": project_id,
        "environment": row["environment"],
    }
