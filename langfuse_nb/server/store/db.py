"""SQLite access: one writer connection behind a lock, one reader connection per thread."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from langfuse_nb.server.store.migrations import migrate

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=OFF",
    "PRAGMA busy_timeout=10000",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA mmap_size=268435456",  # reads through mmap (shared OS pages) avoid a syscall per page
)
# Readers map 256 MB, as the writer does. While the file grows (every commit of an ingest), a reader's first
# statement after another connection's commit re-maps its window: ~50 ms with 2 GB mapped, 8-11 ms with
# 256 MB, 0.8 ms unmapped at 1M traces; but unmapped, index walks read() page by page after every commit
# (a 5%-selective metadata filter 81 ms against 46 ms mapped). bench_server_reads.py, 17:30 UTC runs.
_READER_MMAP = "PRAGMA mmap_size=268435456"
# the writer keeps index pages hot during ingest; readers (one per thread) stay small: the OS caches the file
_WRITER_CACHE = "PRAGMA cache_size=-65536"
_READER_CACHE = "PRAGMA cache_size=-8192"
# Checkpoints (WAL -> database file, with an fsync) run on a background thread so that no request waits
# for them; at ingest rates the default auto-checkpoint on the writer cost more than a third of each commit.
# The writer keeps a high auto-checkpoint as a safety net should the background thread ever fall behind.
_WRITER_AUTOCHECKPOINT = "PRAGMA wal_autocheckpoint=20000"
CHECKPOINT_INTERVAL = 0.5  # seconds between background PASSIVE checkpoints


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=10.0)
    for pragma in _PRAGMAS:
        conn.execute(pragma)
    conn.execute(_READER_CACHE if readonly else _WRITER_CACHE)
    if readonly:
        conn.execute(_READER_MMAP)
        conn.execute("PRAGMA query_only=ON")
    else:
        conn.execute(_WRITER_AUTOCHECKPOINT)
    conn.row_factory = sqlite3.Row
    return conn


class Database:
    """Owns the SQLite file; serialises writes, hands out per-thread readers."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._write_lock = threading.RLock()
        self._writer = _connect(self.path, readonly=False)
        with self._write_lock:
            migrate(self._writer)
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closing = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, name="langfuse-nb-checkpoint", daemon=True
        )
        self._checkpointer.start()

    def _checkpoint_loop(self) -> None:
        conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=10.0)
        try:
            conn.execute("PRAGMA busy_timeout=10000")
            while not self._closing.wait(CHECKPOINT_INTERVAL):
                try:
                    # PASSIVE never blocks the writer or readers; the fsync happens here, off the request path
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error:
                    continue  # e.g. busy: the next round (or the writer's safety net) catches up
        finally:
            conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction on the single writer; rolled back on any exception."""
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @property
    def reader(self) -> sqlite3.Connection:
        """This thread's read-only connection (sees every committed write, thanks to WAL)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path, readonly=True)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def ping(self) -> bool:
        try:
            self.reader.execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def close(self) -> None:
        self._closing.set()
        self._checkpointer.join(timeout=5.0)
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        with self._write_lock:
            # keeps planner statistics fresh for the next start; cheap when nothing changed
            self._writer.execute("PRAGMA optimize")
            self._writer.close()
