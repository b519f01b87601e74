"""SQLite access: one writer connection behind a lock, one reader connection per thread."""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from langfuse_nb.server.store.migrations import migrate

if sys.platform != "win32":  # the cross-process write turn (_ProcessLock); Windows has SQLite's locking only
    import fcntl

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


class _ProcessLock:
    """The turn to write, shared with the other processes writing this file (the server, its ingest workers).

    Without it they meet in SQLite's busy handler, which sleeps 1-100 ms between tries; an flock on a file
    next to the database is released by the kernel even when its holder is killed. Polled (0.2-2 ms sleeps)
    so that a stuck holder costs what SQLite's busy_timeout would (10 s, then "database is locked").
    """

    TIMEOUT = 10.0

    def __init__(self, path: Path) -> None:
        self._fd: int | None = None
        if sys.platform != "win32":  # elsewhere SQLite's own locking alone (busy_timeout)
            try:
                self._fd = os.open(f"{path}.writelock", os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                self._fd = None  # e.g. a read-only directory: SQLite's locking still applies

    def acquire(self) -> None:
        if self._fd is None:  # Windows, or no lock file could be made: SQLite's own locking alone
            return
        delay, deadline = 0.0002, time.monotonic() + self.TIMEOUT
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise sqlite3.OperationalError("database is locked") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.002)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


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
        self._process_lock = _ProcessLock(self.path)
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
            self._process_lock.acquire()
            try:
                conn = self._writer
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                self._process_lock.release()

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
            self._process_lock.close()
