"""Row counts of list pages, remembered per read connection until the database changes.

A list page reports ``totalItems``; at a million rows counting them costs more than the page itself
(tens of ms), while a notebook re-reads the same lists many times between writes. SQLite's
``PRAGMA data_version`` changes on a connection whenever another connection has committed, so a count
remembered under that version is exact for as long as the version stays the same.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

_MAX_REMEMBERED = 256  # counts kept per connection (distinct filters between two writes)
_MAX_CONNECTIONS = 64  # connections remembered (one per server thread); the oldest are forgotten first
_lock = threading.Lock()
_Counts = dict[tuple[str, tuple[Any, ...]], int]
# id(connection) -> (connection, data_version, counts). The connection itself is held so that its id cannot
# be reused by a new connection (sqlite3 connections take no weak references) while its entry exists.
_remembered: dict[int, tuple[sqlite3.Connection, int, _Counts]] = {}


def count(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> int:
    """``sql`` (a single count) on ``conn``, reused while no other connection has written.

    Only for read-only connections: a connection's own writes do not change its data_version.
    """
    version = conn.execute("PRAGMA data_version").fetchone()[0]
    key = (sql, tuple(params))
    with _lock:
        known = _counts_of(conn, version)
        if key in known:
            return known[key]
    total = int(conn.execute(sql, params).fetchone()[0])
    with _lock:
        known = _counts_of(conn, version)
        if len(known) >= _MAX_REMEMBERED:
            known.clear()
        known[key] = total
    return total


def _counts_of(conn: sqlite3.Connection, version: int) -> _Counts:
    """This connection's remembered counts at ``version`` (emptied when the database has changed)."""
    entry = _remembered.get(id(conn))
    if entry is None or entry[0] is not conn or entry[1] != version:
        if entry is None and len(_remembered) >= _MAX_CONNECTIONS:
            del _remembered[next(iter(_remembered))]
        entry = (conn, version, {})
        _remembered[id(conn)] = entry
    return entry[2]
