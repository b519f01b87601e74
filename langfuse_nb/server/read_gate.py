"""Reads first: while the server answers a read, its ingest workers pause between parts of their work.

On two cores, a notebook's 1,000-row read shares the CPU with the ingest worker, the process sending spans
and the notebook itself; the read's wall time then follows the number of runnable processes, not its own
cost, and niceness does not change that (docs/performance.md, "Reads while ingesting"). So the server
marks "a read is in flight" in one shared byte, and a worker checks it at points where waiting is safe:
before each span it decodes and each span it maps, and between parts of its write. It waits while the
byte is set, at most ``MAX_WAIT`` at a time, and after a wait it works for half as long as it waited
before it waits again: reads that never stop leave ingest a third of its speed at worst, they cannot stall
it (an exporter waiting for its answer would time out and send again). Half rather than all of it: in a
notebook's reads one after another (a trace list, then a trace), the time owed after the first one's wait
is worked during the second one (measured in docs/performance.md, "Reads while ingesting"). The worker
never waits on anything the server must do (no lock, no signal), so a server that dies leaves a worker
that finishes its job and exits as before.

The byte lives in an unlinked temporary file that the server maps and hands to each worker as a file
descriptor (with the worker's socket): no name to clean up, nothing for another user to open.
In the server process itself (no worker, or a worker lost) the pause points do nothing.
"""

from __future__ import annotations

import mmap
import tempfile
import time
from typing import Any

MAX_WAIT = 0.05  # seconds a worker waits at most at one time while reads continue (a big read's length)
_POLL = 0.001  # how often a waiting worker looks at the byte again

_attached: mmap.mmap | None = None  # set in a worker process by attach()
_busy_until = 0.0  # after a wait, the worker does not wait again before this (time.monotonic)


class ReadGate:
    """The server's side: counts reads in flight and shows whether there are any in the shared byte."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - open for the gate's life; close() closes it
        try:
            self._file.write(b"\0")
            self._file.flush()
            self._map = mmap.mmap(self._file.fileno(), 1)
        except BaseException:
            self._file.close()
            raise
        self._reads = 0

    @classmethod
    def create(cls) -> ReadGate | None:
        """A gate, or None where no temporary file can be made (the server then runs without one)."""
        try:
            return cls()
        except OSError:
            return None

    def fileno(self) -> int:
        """The descriptor a worker maps (passed to it at start)."""
        return self._file.fileno()

    # enter/leave run on the event loop's thread only (the middleware), so the count needs no lock
    def enter(self) -> None:
        self._reads += 1
        self._map[0] = 1

    def leave(self) -> None:
        self._reads -= 1
        if self._reads <= 0:
            self._reads = 0
            self._map[0] = 0

    @property
    def reading(self) -> bool:
        return bool(self._map[0])

    def close(self) -> None:
        self._map.close()
        self._file.close()


def attach(fd: int) -> None:
    """In a worker: follow the gate behind ``fd`` from now on."""
    global _attached
    _attached = mmap.mmap(fd, 1, access=mmap.ACCESS_READ)


def yield_to_reads() -> None:
    """A pause point: in a worker, wait (at most ``MAX_WAIT``) while the server answers a read."""
    global _busy_until
    gate = _attached
    if gate is None or not gate[0]:
        return
    started = time.monotonic()
    if started < _busy_until:
        return
    deadline = started + MAX_WAIT
    while gate[0] and time.monotonic() < deadline:
        time.sleep(_POLL)
    ended = time.monotonic()
    _busy_until = ended + (ended - started) / 2


_HEALTH = "/api/public/health"


class ReadsFirst:
    """ASGI middleware: a GET (but the health probe) holds the gate for as long as it is answered."""

    def __init__(self, app: Any, gate: ReadGate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] == _HEALTH:
            await self.app(scope, receive, send)
            return
        self.gate.enter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.gate.leave()
