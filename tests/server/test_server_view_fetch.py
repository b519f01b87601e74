"""How observation views are read: few values per row, the rare columns by rowid, one snapshot.

``select_view_rows`` selects a row's rarely set columns as one value (NULL, or the rowid that
``ViewBuilder.views`` reads them by) and the shared columns as one JSON array, falling back to plain columns
when a BLOB sits among those (json_array refuses it). Every answer here is compared byte for byte with the
builders of commit 300f72b (``views_before.py``) reading the same stored rows.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import views_before as before

from langfuse_nb.server.routes import traces as trace_routes
from langfuse_nb.server.store import observations
from langfuse_nb.server.store.db import Database
from langfuse_nb.server.store.resources import BlobCache
from langfuse_nb.server.values import pack_io

_STAMP = "2024-02-01T10:00:00.000000Z"
_LATER = "2024-02-01T10:00:01.250000Z"


def _row(n: int, trace_id: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(observations.COLUMNS)
    row.update(
        id=f"{trace_id}-o{n:04d}",
        trace_id=trace_id,
        type="GENERATION" if n % 2 else "SPAN",
        name=f"step-{n % 3}",
        start_time=_STAMP,
        end_time=_LATER,
        environment="default",
        input='{"q": 1}',
        output="answer",
        as_root=0,
        created_at=_STAMP,
        updated_at=_STAMP,
    )
    row.update(values)
    return row


# values where the view reads text, one per row: every SQLite storage class, NaN, packed inputs, JSON that
# must be escaped; rare columns set on some rows only
_AWKWARD: list[dict[str, Any]] = [
    {},
    {"model": b"gpt-4o", "level": "ERROR"},  # a BLOB among the shared columns: json_array refuses it
    {"environment": b"\x00\xff"},
    {"usage_details": b'{"input": 3}'},
    {"total_cost": float("nan"), "cost_details": '{"input": 0.5}'},
    {"total_cost": float("inf")},
    {"input": pack_io('{"long": "' + "x" * 300 + '"}'), "output": pack_io("plain " * 60)},
    {"input": None, "output": "", "metadata": '{"step": 1}'},
    {"completion_start_time": _LATER, "version": "v2"},
    {"completion_start_time": "", "status_message": "failed"},
    {"prompt_version": 3},
    {"prompt_version": 2.5, "prompt_name": "p"},  # a REAL where an INTEGER is expected
    {"prompt_id": b"\x01blob"},
    {"experiment": '{"experimentId": "e", "latency": 9, "input": {"over": "written"}}'},
    {"experiment": ""},
    {"version": 7},  # an INTEGER into a TEXT column: stored as text
    {"name": b"bytes-name", "model": 'we"ird\\ \n\t\x01 ü ☃ 😀 \u2028'},
    {"end_time": None, "start_time": "2024-02-01T12:00:00.250000+02:00"},
]


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = Database(tmp_path_factory.mktemp("fetch") / "lf.db")
    yield db
    db.close()


def _store(db: Database, rows: list[dict[str, Any]]) -> None:
    columns = list(observations.COLUMNS)
    with db.write() as conn:
        conn.executemany(
            f"INSERT INTO observations ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [tuple(row[c] for c in columns) for row in rows],
        )


def _reader(db: Database) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{db.path}?mode=ro", uri=True, isolation_level=None)
    conn.row_factory = sqlite3.Row  # as the server's readers
    return conn


def _dumps(views: list[dict[str, Any]]) -> list[bytes]:
    out = []
    for view in views:
        try:
            out.append(orjson.dumps(view, default=str))
        except orjson.JSONEncodeError:
            out.append(json.dumps(view, default=str).encode())
    return out


def _old_views(conn: sqlite3.Connection, where: str, params: tuple[Any, ...]) -> list[bytes]:
    stored = conn.execute(f"SELECT * FROM observations o {where}", params).fetchall()
    return _dumps([before.to_view(row, conn, BlobCache()) for row in stored])


@pytest.mark.parametrize("one_trace", [False, True])
def test_awkward_values_read_through_the_fetch_are_what_the_old_builder_made(
    database: Database, one_trace: bool
) -> None:
    trace_id = f"awkward-{one_trace}"
    _store(database, [_row(n, trace_id, **values) for n, values in enumerate(_AWKWARD * 3)])
    conn = _reader(database)
    try:
        where = "WHERE o.trace_id = ? ORDER BY o.rowid"
        rows = observations.select_view_rows(conn, where, (trace_id,), trace_id if one_trace else None)
        assert any(isinstance(row[-1], tuple) for row in rows)  # the BLOBs made it read plain columns
        assert any(isinstance(row[-2], int) for row in rows)  # rare values left to the rowid lookup
        builder = observations.ViewBuilder(conn, BlobCache(), trace_id=trace_id if one_trace else None)
        assert _dumps(builder.views(rows)) == _old_views(conn, where, (trace_id,))
    finally:
        conn.close()


def test_the_json_fetch_without_blobs_is_what_the_old_builder_made(database: Database) -> None:
    trace_id = "text-only"
    rows = [
        _row(n, trace_id, **values)
        for n, values in enumerate(_AWKWARD * 2)
        if not any(isinstance(value, bytes) for value in values.values())
    ]
    _store(database, rows)
    conn = _reader(database)
    try:
        where = "WHERE o.trace_id = ? ORDER BY o.rowid"
        for bound in (None, trace_id):
            selected = observations.select_view_rows(conn, where, (trace_id,), bound)
            assert all(isinstance(row[-1], str) for row in selected)  # one JSON text per row
            views = observations.ViewBuilder(conn, BlobCache(), trace_id=bound).views(selected)
            assert _dumps(views) == _old_views(conn, where, (trace_id,))
    finally:
        conn.close()


def test_a_trace_with_blobs_and_rare_values_is_what_the_old_code_returned(database: Database) -> None:
    trace_id = "detail"
    with database.write() as conn:
        conn.execute(
            "INSERT INTO traces (id, timestamp, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            (trace_id, _STAMP, "t", _STAMP, _STAMP),
        )
    _store(database, [_row(n, trace_id, **values) for n, values in enumerate(reversed(_AWKWARD * 2))])
    conn = _reader(database)
    try:
        new = trace_routes.trace_detail(conn, BlobCache(), trace_id)
        old = before.trace_detail(conn, BlobCache(), trace_id)
        assert new is not None and old is not None
        assert orjson.dumps(new, default=str) == orjson.dumps(old, default=str)
        assert not conn.in_transaction  # the snapshot was let go
    finally:
        conn.close()


def test_rows_deleted_or_replaced_between_the_two_queries_get_no_rare_fields(database: Database) -> None:
    trace_id = "gone"
    _store(database, [_row(n, trace_id, version=f"v{n}", status_message="s") for n in range(3)])
    conn = _reader(database)
    try:
        rows = observations.select_view_rows(conn, "WHERE o.trace_id = ? ORDER BY o.rowid", (trace_id,))
        with database.write() as writer:  # outside a snapshot: a delete and an id swap land in between
            writer.execute("DELETE FROM observations WHERE id = ?", (f"{trace_id}-o0000",))
            writer.execute("UPDATE observations SET id = 'swapped' WHERE id = ?", (f"{trace_id}-o0001",))
        views = observations.ViewBuilder(conn, BlobCache()).views(rows)
        fields = [(v["version"], v["statusMessage"]) for v in views]
        assert fields == [(None, None), (None, None), ("v2", "s")]
    finally:
        conn.close()


def test_a_snapshot_does_not_see_a_commit_made_inside_it(database: Database) -> None:
    trace_id = "snapshot"
    _store(database, [_row(0, trace_id, version="before")])
    conn = _reader(database)
    count = "SELECT count(*) FROM observations WHERE trace_id = ?"
    try:
        with observations.read_snapshot(conn):
            assert conn.execute(count, (trace_id,)).fetchone()[0] == 1
            # another thread's commit while the snapshot is held (a writer never waits for readers in WAL)
            writer = threading.Thread(target=_store, args=(database, [_row(1, trace_id)]))
            writer.start()
            writer.join()
            assert conn.execute(count, (trace_id,)).fetchone()[0] == 1
            with observations.read_snapshot(conn):  # nested: the caller's snapshot stays
                assert conn.execute(count, (trace_id,)).fetchone()[0] == 1
            assert conn.in_transaction
        assert not conn.in_transaction
        assert conn.execute(count, (trace_id,)).fetchone()[0] == 2
    finally:
        conn.close()


def test_a_snapshot_is_let_go_when_the_block_raises(database: Database) -> None:
    conn = _reader(database)
    try:
        with pytest.raises(LookupError), observations.read_snapshot(conn):
            conn.execute("SELECT 1 FROM observations LIMIT 1").fetchone()
            raise LookupError("boom")
        assert not conn.in_transaction
    finally:
        conn.close()


def test_other_sql_errors_are_not_taken_for_a_blob(database: Database) -> None:
    conn = _reader(database)
    try:
        with pytest.raises(sqlite3.OperationalError, match="no such column"):
            observations.select_view_rows(conn, "WHERE o.no_such_column = 1", ())
    finally:
        conn.close()
