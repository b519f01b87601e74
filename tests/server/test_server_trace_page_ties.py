"""Trace list pages in timestamp order, read without SQL's id tie-break, hold the rows the exact query
(``ORDER BY t.timestamp <dir>, t.id``) returns, in its order: runs of equal timestamps inside a page, across
either end of it, at the first and last page, past the end, and ids that SQLite orders by type."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator

import pytest

from langfuse_nb.server.routes import traces
from langfuse_nb.server.store.db import Database
from langfuse_nb.server.store.resources import BlobCache

_STAMPS = [f"2024-03-01T10:00:{second:02d}.000000Z" for second in range(12)]


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    db = Database(tmp_path_factory.mktemp("ties") / "lf.db")
    rng = random.Random(7)
    rows = []
    for n in range(90):  # runs of 1-9 traces on the same timestamp, inserted in shuffled id order
        trace_id = f"t{rng.randrange(10**6):06d}-{n}"
        rows.append((trace_id, rng.choice(_STAMPS), "s" if n % 3 else None))
    rows += [(b"blob-id", _STAMPS[4], None), (b"blob-id-2", _STAMPS[11], None)]  # ids of another type
    rows += [("newest", "2024-03-02T00:00:01.000000Z", None), ("next", "2024-03-02T00:00:00.000000Z", None)]
    with db.write() as writer:
        writer.executemany(
            "INSERT INTO traces (id, timestamp, session_id, created_at, updated_at) "
            "VALUES (?, ?, ?, '2024-01-01T00:00:00.000000Z', '2024-01-01T00:00:00.000000Z')",
            rows,
        )
    reader = db.reader
    yield reader
    db.close()


def _exact(conn: sqlite3.Connection, direction: str, where: str, limit: int, offset: int) -> list[object]:
    sql = f"SELECT id FROM traces t {where} ORDER BY t.timestamp {direction}, t.id LIMIT ? OFFSET ?"
    return [row[0] for row in conn.execute(sql, (limit, offset))]


@pytest.mark.parametrize("direction", ["DESC", "ASC"])
@pytest.mark.parametrize("limit", [1, 2, 3, 5, 7, 13, 50, 100])
@pytest.mark.parametrize("session", [None, "s"])
def test_every_page_is_what_the_exact_query_returns(
    conn: sqlite3.Connection, direction: str, limit: int, session: str | None
) -> None:
    where = "WHERE t.session_id = 's'" if session else ""
    for page in range(1, 100 // limit + 4):  # up to and past the last page
        answer = traces.query_traces(
            conn,
            BlobCache(),
            page=page,
            limit=limit,
            orderBy=f"timestamp.{direction.lower()}",
            sessionId=session,
            fields="core",
        )
        got = [item["id"] for item in answer["data"]]
        assert got == _exact(conn, direction, where, limit, (page - 1) * limit), (page, limit)


def test_a_page_with_no_ties_is_read_by_one_query_without_the_sort(conn: sqlite3.Connection) -> None:
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        answer = traces.query_traces(conn, BlobCache(), limit=1, page=1, fields="core")
    finally:
        conn.set_trace_callback(None)
    assert [item["id"] for item in answer["data"]] == _exact(conn, "DESC", "", 1, 0)
    pages = [s for s in statements if s.startswith("SELECT t.id")]
    assert len(pages) == 1 and not pages[0].split("ORDER BY")[1].count("t.id")
