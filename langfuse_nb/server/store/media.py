"""Media records, their trace/observation links, and the bytes on disk (never outside the media folder)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from langfuse_nb.server.errors import BadRequest, NotFound
from langfuse_nb.server.values import now_iso

_MEDIA_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")


def media_id_for(sha256_b64: str) -> str:
    """The id the SDK derives itself: URL-safe base64 of the SHA-256, first 22 characters."""
    return sha256_b64.replace("+", "-").replace("/", "_")[:22]


def check_media_id(media_id: str) -> str:
    if not _MEDIA_ID.match(media_id):
        raise BadRequest(f"invalid media id {media_id!r}: expected 22 URL-safe base64 characters")
    return media_id


def secret(conn: sqlite3.Connection) -> bytes:
    """Per-database key for the self-authorising upload/download tokens (created on first use)."""
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES ('media_secret', ?)", (secrets.token_hex(32),)
    )
    return conn.execute("SELECT value FROM meta WHERE key = 'media_secret'").fetchone()[0].encode()


LINK_TTL_SECONDS = 3600  # upload and download links live one hour, like Langfuse's presigned URLs


def token(key: bytes, purpose: str, media_id: str, expires: int) -> str:
    message = f"{purpose}:{media_id}:{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:40]


def signed_query(key: bytes, purpose: str, media_id: str, now: float | None = None) -> tuple[str, int]:
    """``token=...&expires=...`` for a link valid for LINK_TTL_SECONDS, and its expiry (Unix seconds)."""
    expires = int(time.time() if now is None else now) + LINK_TTL_SECONDS
    return f"token={token(key, purpose, media_id, expires)}&expires={expires}", expires


def token_valid(
    key: bytes, purpose: str, media_id: str, given: str | None, expires: int | None, now: float | None = None
) -> bool:
    """The token signs this purpose, media id and expiry, and the expiry has not passed."""
    if given is None or expires is None or expires < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(token(key, purpose, media_id, expires), given)


def get(conn: sqlite3.Connection, media_id: str) -> dict[str, Any] | None:
    found = conn.execute("SELECT * FROM media WHERE id = ?", (media_id,)).fetchone()
    return dict(found) if found else None


def register(conn: sqlite3.Connection, spec: dict[str, Any]) -> tuple[str, bool]:
    """Upsert the media row and link it; returns (media id, already uploaded)."""
    media_id = media_id_for(spec["sha256Hash"])
    existing = get(conn, media_id)
    now = now_iso()
    done = bool(
        existing and existing["upload_http_status"] == 200 and existing["content_type"] == spec["contentType"]
    )
    if existing is None:
        conn.execute(
            "INSERT INTO media (id, sha256_hash, content_type, content_length, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (media_id, spec["sha256Hash"], spec["contentType"], spec["contentLength"], now, now),
        )
    elif not done:
        conn.execute(
            "UPDATE media SET content_type = ?, content_length = ?, updated_at = ? WHERE id = ?",
            (spec["contentType"], spec["contentLength"], now, media_id),
        )
    conn.execute(
        "INSERT OR IGNORE INTO media_links (media_id, trace_id, observation_id, field) VALUES (?, ?, ?, ?)",
        (media_id, spec["traceId"], spec.get("observationId") or "", spec["field"]),
    )
    return media_id, done


def record_upload(
    conn: sqlite3.Connection,
    media_id: str,
    status: int,
    error: str | None,
    uploaded_at: str | None,
    time_ms: int | None,
) -> None:
    if get(conn, media_id) is None:
        raise NotFound(f"Media {media_id} not found")
    conn.execute(
        "UPDATE media SET upload_http_status = ?, upload_http_error = ?, uploaded_at = "
        "coalesce(?, uploaded_at), upload_time_ms = coalesce(?, upload_time_ms), updated_at = ? WHERE id = ?",
        (status, None if status == 200 else error, uploaded_at, time_ms, now_iso(), media_id),
    )


def file_path(media_dir: Path, media_id: str) -> Path:
    """Where the bytes live; the id is validated so the path cannot leave ``media_dir``."""
    path = (media_dir / check_media_id(media_id)).resolve()
    if path.parent != media_dir.resolve():
        raise BadRequest("invalid media path")
    return path


def save_bytes(media_dir: Path, media_id: str, data: bytes) -> None:
    """Write atomically (temp file + rename) so a reader never sees half a file."""
    media_dir.mkdir(parents=True, exist_ok=True)
    target = file_path(media_dir, media_id)
    fd, tmp = tempfile.mkstemp(dir=media_dir, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()
