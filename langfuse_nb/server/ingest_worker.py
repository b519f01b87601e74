"""Span ingest in a child process the server owns, so reads keep the server's interpreter to themselves.

Decoding, mapping and writing an OTLP span costs ~85-150 µs of Python, all under the server's GIL, which a
notebook's reads then wait for. The server hands each ingest request (an ``ingest_jobs`` job) to a worker
process over a socket pair and answers the client with the worker's reply, after the worker committed.

Protocol: frames of an 8-byte big-endian length and a pickle (only ever between this server and the
children it started). The server sends ``WorkerSettings`` once, the worker answers ``("ready", pid)``; then
each job gets ``("ok", result)`` or ``("err", exception, traceback text)``.

Failure rules (no request is ever lost or left hanging):
- until a worker is ready (it starts on the first ingest request), requests run in the server process;
- a worker that dies, hangs past ``timeout`` (plus 1 s per 100 KB of body) or garbles a frame is
  killed, and the request runs in the server process (writes are upserts by id, so a job the worker
  had committed is stored once);
- a new worker is started in the background unless three failed within a minute (then, for that minute,
  everything runs in-process); no spawn at all where it cannot work (not POSIX, no interpreter path).
The worker exits when its socket reaches EOF: when the server closes it, or when the server dies.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langfuse_nb.server import gcpause, read_gate
from langfuse_nb.server.errors import ApiError
from langfuse_nb.server.ingest_jobs import Job
from langfuse_nb.server.read_gate import ReadGate
from langfuse_nb.server.store.db import Database
from langfuse_nb.server.store.resources import BlobCache

log = logging.getLogger("langfuse_nb.server")

_HEADER = struct.Struct("!Q")
_START_TIMEOUT = 30.0  # seconds for a worker to import, open the database and say it is ready
_FAILURE_WINDOW = 60.0  # this many seconds after the third failure, no new worker is started
_MAX_FAILURES = 3
# the worker's environment: what an interpreter needs to start and find its packages; nothing else, so
# keys a launcher or a notebook kernel holds in its environment never reach the child
_ENV_KEEP = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP",
        "PYTHONPATH", "PYTHONHOME", "PYTHONNOUSERSITE", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX",
        "PYTHONUTF8", "PYTHONIOENCODING", "PYTHONWARNINGS", "PYTHONFAULTHANDLER", "VIRTUAL_ENV",
        "CONDA_PREFIX", "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "SYSTEMROOT", "COVERAGE_PROCESS_START",
    }
)  # fmt: skip
# -c puts the current directory first on sys.path; the worker must run the server's own package instead
_BOOT = "import sys; sys.path[0] = sys.argv[2]; from langfuse_nb.server.ingest_worker import main; main()"


class WorkerLost(Exception):
    """The worker did not answer: it died, hung, or sent something unreadable."""


class RemoteTraceback(Exception):
    """The worker's traceback of an unexpected error, chained to it for the server's log."""


class ShuttingDown(ApiError):
    """A request whose worker went away because the server is stopping: 503, retry (as app.py answers)."""

    status_code = 503
    error = "ServiceUnavailableError"


@dataclass(frozen=True)
class WorkerSettings:
    """What a worker needs: the database. Never the keys (it answers no HTTP)."""

    db_path: str
    nice: int = 0  # added to the worker's niceness: when the cores are busy, the server's reads go first
    gate_fd: int | None = None  # the server's read gate (read_gate.py), passed with the socket


# ---- frames ------------------------------------------------------------------------------------------------


def encode(value: Any) -> list[bytes]:
    """A frame as the buffers to send (a large body is not copied into one buffer with its header)."""
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return [_HEADER.pack(len(data)) + data] if len(data) < 65536 else [_HEADER.pack(len(data)), data]


def send_frame(sock: socket.socket, value: Any) -> None:
    for part in encode(value):
        sock.sendall(part)


def read_frame(sock: socket.socket) -> Any:
    """The next value; raises ``EOFError`` when the other end closed between frames."""
    header = _read_exactly(sock, _HEADER.size, eof_ok=True)
    if header is None:
        raise EOFError
    return pickle.loads(_read_exactly(sock, _HEADER.unpack(header)[0], eof_ok=False) or bytearray())


def _read_exactly(sock: socket.socket, size: int, *, eof_ok: bool) -> bytearray | None:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        n = sock.recv_into(view[got:])
        if n == 0:
            if got == 0 and eof_ok:
                return None
            raise EOFError("connection closed inside a frame")
        got += n
    return buffer


# ---- the worker process ------------------------------------------------------------------------------------


def main() -> None:
    """Entry point of the worker process (``_BOOT``): serve jobs until the server closes the socket."""
    # Ctrl-C in a terminal reaches the whole process group: the server drains and closes us itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gcpause.own_process()  # this interpreter only ingests: a request may hold off the cyclic collector
    sock = socket.socket(fileno=int(sys.argv[1]))
    settings: WorkerSettings = read_frame(sock)
    if settings.nice > 0:
        os.nice(settings.nice)
    if settings.gate_fd is not None:
        read_gate.attach(settings.gate_fd)
    db = Database(settings.db_path)
    blobs = BlobCache()
    try:
        send_frame(sock, ("ready", os.getpid()))
        while True:
            try:
                job: Job = read_frame(sock)
            except EOFError:
                return
            send_frame(sock, _run(job, db, blobs))
    except (BrokenPipeError, ConnectionResetError):
        return  # the server is gone
    finally:
        db.close()


def _run(job: Job, db: Database, blobs: BlobCache) -> tuple[Any, ...]:
    try:
        return ("ok", job.run(db, blobs))
    except Exception as exc:  # every error goes back to the server, which answers as it would in-process
        text = "".join(traceback.format_exception(exc))
        try:
            pickle.dumps(exc)
        except Exception:  # an exception that cannot travel: its type and message still do
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        return ("err", exc, text)


# ---- the server side ---------------------------------------------------------------------------------------


class _Worker:
    """One started worker process and the server's end of its socket."""

    def __init__(self, process: subprocess.Popen[bytes], sock: socket.socket) -> None:
        self.process = process
        self.sock = sock

    def call(self, frame: list[bytes], timeout: float) -> tuple[Any, ...]:
        try:
            self.sock.settimeout(timeout)
            for part in frame:
                self.sock.sendall(part)
            reply = read_frame(self.sock)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError) as exc:  # TimeoutError is an OSError
            raise WorkerLost(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(reply, tuple) or reply[0] not in ("ok", "err"):
            raise WorkerLost(f"unexpected reply {type(reply).__name__}")
        return reply

    def stop(self, timeout: float) -> None:
        """Close the socket (the worker sees EOF, closes the database, exits); kill it after ``timeout``."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # also wakes a request thread still waiting on it
        self.sock.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        self.sock.close()
        self.process.kill()
        self.process.wait()


def _worker_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k in _ENV_KEEP or k.startswith("LC_")}


def _package_root() -> str:
    return str(Path(__file__).resolve().parents[2])


def _start_worker(db_path: Path, nice: int, gate: ReadGate | None) -> _Worker:
    ours, theirs = socket.socketpair()
    gate_fd = None if gate is None else gate.fileno()
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", _BOOT, str(theirs.fileno()), _package_root()],
            pass_fds=(theirs.fileno(),) if gate_fd is None else (theirs.fileno(), gate_fd),
            stdin=subprocess.DEVNULL,
            env=_worker_env(),
        )
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    worker = _Worker(process, ours)
    try:
        ours.settimeout(_START_TIMEOUT)
        send_frame(ours, WorkerSettings(str(db_path), nice, gate_fd))
        reply = read_frame(ours)
        if not (isinstance(reply, tuple) and reply[0] == "ready"):
            raise WorkerLost(f"unexpected first reply {reply!r:.100}")
    except BaseException:
        worker.kill()
        raise
    return worker


def can_spawn(db_path: Path) -> bool:
    """Workers need POSIX fd passing, an interpreter to start, and a database file they can open too."""
    frozen = getattr(sys, "frozen", False)  # a bundled app's executable is not a Python interpreter
    return os.name == "posix" and bool(sys.executable) and not frozen and str(db_path) not in ("", ":memory:")


class IngestWorkers:
    """The server's ingest workers: ``run(job)`` runs a job in one of them, or here when none can.

    ``workers`` is a ceiling: one worker starts with the first job, and another only when a job arrives
    while every running one is busy (several senders at once). A notebook's exporter sends one request at
    a time and keeps one worker; two senders on an idle 2-core machine got 1.08-1.24x the spans/s with
    the second (docs/performance.md, "On the new machine").
    """

    def __init__(
        self,
        db: Database,
        blobs: BlobCache,
        *,
        workers: int,
        timeout: float,
        nice: int = 0,
        gate: ReadGate | None = None,
    ) -> None:
        self._db, self._blobs, self._timeout, self._nice, self._gate = db, blobs, timeout, nice, gate
        self._wanted = workers if workers > 0 and can_spawn(db.path) else 0
        self._target = min(self._wanted, 1)  # workers to keep running now; grows up to _wanted on demand
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._running: set[_Worker] = set()  # ready workers, idle or busy
        self._spawning = False
        self._closed = False
        self._failures: deque[float] = deque(maxlen=_MAX_FAILURES)

    def run(self, job: Job) -> Any:
        """The job's result (or its exception), computed in a worker if one is ready, else here."""
        if not self._wanted:
            return job.run(self._db, self._blobs)
        try:
            frame = encode(job)
        except (RecursionError, pickle.PicklingError):  # e.g. a JSON event nested thousands deep
            return job.run(self._db, self._blobs)
        worker = self._checkout()
        if worker is None:
            return job.run(self._db, self._blobs)
        # a big body takes longer: 1 s more per 100 KB (a 16 MB body of small spans: ~25 s of work)
        timeout = self._timeout + sum(len(part) for part in frame) / 100_000
        try:
            reply = worker.call(frame, timeout)
        except WorkerLost as exc:
            self._lose(worker, str(exc))
            if self._closed:
                raise ShuttingDown("the server is shutting down; retry the request") from None
            return job.run(self._db, self._blobs)  # idempotent: a job the worker committed is stored once
        self._checkin(worker)
        if reply[0] == "ok":
            return reply[1]
        error: BaseException = reply[1]
        if not isinstance(error, ApiError | OverflowError):
            error.__cause__ = RemoteTraceback(reply[2])
        raise error

    def pids(self) -> list[int]:
        """Process ids of the ready workers (for tests and benchmarks)."""
        with self._cond:
            return [w.process.pid for w in self._running]

    def close(self, timeout: float = 5.0) -> None:
        """Stop every worker: each finishes its job in hand, closes the database and exits."""
        with self._cond:
            self._closed = True
            workers = list(self._running)
            self._running.clear()
            self._idle.clear()
            self._cond.notify_all()
        for worker in workers:
            worker.stop(timeout)

    def _checkout(self) -> _Worker | None:
        with self._cond:
            if self._closed or not self._wanted:
                return None
            if not self._idle and len(self._running) >= self._target and self._target < self._wanted:
                self._target += 1  # every running worker is busy: a job is waiting for one
            self._start_missing()
            deadline = time.monotonic() + self._timeout
            while not self._idle:
                remaining = deadline - time.monotonic()
                if not self._running or self._closed or remaining <= 0:
                    return None  # none ready (yet), or all stuck: this request runs here
                self._cond.wait(remaining)
            return self._idle.pop()

    def _checkin(self, worker: _Worker) -> None:
        with self._cond:
            if worker in self._running:
                self._idle.append(worker)
                self._cond.notify()

    def _lose(self, worker: _Worker, why: str) -> None:
        log.warning("ingest worker %d lost (%s); handling its request in the server", worker.process.pid, why)
        worker.kill()
        with self._cond:
            self._running.discard(worker)
            self._failures.append(time.monotonic())
            self._cond.notify_all()
            self._start_missing()

    def _may_start(self) -> bool:
        failing = self._failures
        recent = len(failing) == _MAX_FAILURES and time.monotonic() - failing[0] < _FAILURE_WINDOW
        return not (self._closed or self._spawning or recent) and len(self._running) < self._target

    def _start_missing(self) -> None:
        """(Holding the lock) start the missing workers in the background: nobody waits for a spawn."""
        if self._may_start():
            self._spawning = True
            threading.Thread(target=self._spawn_loop, name="langfuse-nb-ingest-spawn", daemon=True).start()

    def _spawn_loop(self) -> None:
        while True:
            try:
                worker = _start_worker(self._db.path, self._nice, self._gate)
            except (OSError, EOFError, WorkerLost, pickle.UnpicklingError, ValueError) as exc:
                log.warning("could not start an ingest worker (%s); ingesting in the server process", exc)
                with self._cond:
                    self._spawning = False
                    self._failures.append(time.monotonic())
                return
            with self._cond:
                closed = self._closed
                if not closed:
                    self._running.add(worker)
                    self._idle.append(worker)
                    self._cond.notify_all()
                self._spawning = more = not closed and len(self._running) < self._target
            if closed:
                worker.stop(1.0)
            if not more:
                return
