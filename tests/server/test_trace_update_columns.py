"""A stored trace updated by later requests: only the changed columns are written, with the same result.

Oracle: the same requests written the way the store wrote them before, one upsert naming every column.
Both must give the same rows (but ``created_at``/``updated_at``), the same tag, metadata and session entries,
and indexes that agree with the table.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from langfuse_nb.server.store import ingest, traces
from langfuse_nb.server.store.db import Database
from langfuse_nb.server.store.resources import BlobCache

_IDS = [f"{n:032x}" for n in range(6)]


def _update(rng: random.Random, trace_id: str) -> dict[str, Any]:
    update: dict[str, Any] = {
        "id": trace_id,
        "timestamp": f"2026-01-01T00:00:{rng.randrange(60):02d}.000000Z",
        "environment": rng.choice([None, "default", "prod"]),
        "is_root": rng.random() < 0.3,
    }
    if rng.random() < 0.2:
        return update  # a span that only says the trace exists
    for field, values in (
        ("name", [None, "a", "b"]),
        ("name_fallback", [None, "span-name"]),
        ("input", [None, '{"q": 1}', "text in"]),
        ("input_fallback", [None, "fallback in"]),
        ("output", [None, "out"]),
        ("output_fallback", [None, "fallback out"]),
        ("user_id", [None, "u1", "u2"]),
        ("session_id", [None, "s1", "s2"]),
        ("release", [None, "r1"]),
        ("version", [None, "v1", "v2"]),
        ("public", [None, True, False]),
    ):
        update[field] = rng.choice(values)
    update["metadata"] = rng.choice([None, {}, {"k": rng.randrange(3)}, {"other": "x", "k": None}])
    update["tags"] = rng.sample(["t1", "t2", "t3"], rng.randrange(3))
    return update


def _state(db: Database) -> dict[str, Any]:
    with db.write() as conn:
        rows = [dict(r) for r in conn.execute("SELECT * FROM traces ORDER BY id")]
        for row in rows:
            del row["created_at"], row["updated_at"]
        return {
            "traces": rows,
            "tags": _tuples(conn.execute("SELECT * FROM trace_tags ORDER BY 1, 2")),
            "metadata": _tuples(conn.execute("SELECT * FROM trace_metadata ORDER BY 1, 2, 3")),
            "integrity": _tuples(conn.execute("PRAGMA integrity_check")),
            "by_user": _tuples(
                conn.execute(
                    "SELECT user_id, id FROM traces INDEXED BY traces_user "
                    "WHERE user_id IN ('u1', 'u2') ORDER BY 1, 2"
                )
            ),
            "by_name": _tuples(
                conn.execute(
                    "SELECT name, id FROM traces INDEXED BY traces_name WHERE name IS NOT NULL ORDER BY 1, 2"
                )
            ),
        }


def _tuples(cursor: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in cursor]


def _sessions(db: Database) -> set[str]:
    with db.write() as conn:
        return {row[0] for row in conn.execute("SELECT id FROM sessions")}


def _plain(updates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v) for k, v in u.items()}
        for u in updates
    ]


def _every_column(conn: Any, rows: Any, existing: Any) -> None:
    """The write before: every row through the upsert that sets every column."""
    conn.executemany(traces._INSERT, [traces._ROW_GETTER({**traces._EMPTY_ROW, **row}) for row in rows])


def _requests(seed: int) -> list[list[dict[str, Any]]]:
    rng = random.Random(seed)
    updates = [_update(rng, rng.choice(_IDS)) for _ in range(rng.randrange(5, 30))]
    requests, start = [], 0
    while start < len(updates):
        size = rng.randrange(1, 5)
        requests.append(updates[start : start + size])
        start += size
    return requests


def _run(path: Path, requests: list[list[dict[str, Any]]]) -> tuple[dict[str, Any], set[str]]:
    db = Database(path)
    try:
        blobs = BlobCache()
        for request in requests:
            ingest.write(db, blobs, trace_updates=_plain(request))
        return _state(db), _sessions(db)
    finally:
        db.close()


def test_updates_over_requests_match_the_every_column_upsert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for seed in range(40):
        requests = _requests(seed)
        changed_only = _run(tmp_path / f"new-{seed}.db", requests)
        with monkeypatch.context() as patch:
            patch.setattr(traces, "_write", _every_column)
            before = _run(tmp_path / f"old-{seed}.db", requests)
        assert changed_only == before, f"seed {seed}"
        assert changed_only[0]["integrity"] == [("ok",)]


def test_an_unchanged_update_still_moves_updated_at(tmp_path: Path) -> None:
    db = Database(tmp_path / "lf.db")
    try:
        update = {"id": _IDS[0], "timestamp": "2026-01-01T00:00:00.000000Z", "environment": "default",
                  "is_root": True, "name": "n", "user_id": "u1"}  # fmt: skip
        ingest.write(db, BlobCache(), trace_updates=[dict(update)])
        with db.write() as conn:
            first = conn.execute("SELECT created_at, updated_at FROM traces").fetchone()
        ingest.write(db, BlobCache(), trace_updates=[dict(update)])
        with db.write() as conn:
            second = conn.execute("SELECT created_at, updated_at FROM traces").fetchone()
        assert second[0] == first[0]
        assert second[1] >= first[1]
    finally:
        db.close()
