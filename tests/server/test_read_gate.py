"""Reads first: ingest workers pause between parts of their work while the server answers a read.

What is checked: GETs (but the health probe) hold the gate for as long as they are answered, also when they
fail; a process that follows the gate reaches pause points while decoding, mapping and writing a request,
and none when no read is in flight; a wait ends at its bound while reads continue, and the worker then
works half as long as it waited before it waits again; and a real worker whose gate never opens still stores
every span (reads slow ingest, they cannot stop it).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import server_testkit as kit

from langfuse_nb.server import read_gate
from langfuse_nb.server.ingest_jobs import OtlpJob
from langfuse_nb.server.ingest_worker import IngestWorkers
from langfuse_nb.server.read_gate import ReadGate, ReadsFirst
from langfuse_nb.server.store.db import Database
from langfuse_nb.server.store.resources import BlobCache

PROTOBUF = "application/x-protobuf"


@pytest.fixture
def gate() -> Iterator[ReadGate]:
    made = ReadGate()
    yield made
    made.close()


def test_reads_in_flight_are_counted(gate: ReadGate) -> None:
    assert not gate.reading
    gate.enter()
    gate.enter()
    gate.leave()
    assert gate.reading  # one read still in flight
    gate.leave()
    assert not gate.reading


def _call(middleware: ReadsFirst, method: str, path: str) -> None:
    scope = {"type": "http", "method": method, "path": path}
    asyncio.run(middleware(scope, None, None))


@pytest.mark.parametrize(
    ("method", "path", "holds"),
    [
        ("GET", "/api/public/traces/abc", True),
        ("GET", "/api/public/observations", True),
        ("GET", "/api/public/health", False),
        ("POST", "/api/public/otel/v1/traces", False),
        ("DELETE", "/api/public/traces/abc", False),
    ],
)
def test_a_get_holds_the_gate_while_it_is_answered(
    gate: ReadGate, method: str, path: str, holds: bool
) -> None:
    seen: list[bool] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(gate.reading)

    _call(ReadsFirst(app, gate), method, path)
    assert seen == [holds]
    assert not gate.reading


def test_a_failing_read_lets_the_gate_go(gate: ReadGate) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        _call(ReadsFirst(app, gate), "GET", "/api/public/traces")
    assert not gate.reading


# polls of one wait that reaches its bound (float steps may end one poll early or late)
_POLLS_PER_WAIT = range(
    round(read_gate.MAX_WAIT / read_gate._POLL) - 1, round(read_gate.MAX_WAIT / read_gate._POLL) + 2
)


class _Clock:
    """time.monotonic / time.sleep of read_gate, counted: a wait is a number of polls, not a duration."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps = 0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += seconds


@pytest.fixture
def followed(gate: ReadGate, monkeypatch: pytest.MonkeyPatch) -> _Clock:
    """This process follows ``gate`` as a worker does, on a counted clock."""
    clock = _Clock()
    monkeypatch.setattr(read_gate, "time", clock)
    monkeypatch.setattr(read_gate, "_attached", None)
    monkeypatch.setattr(read_gate, "_busy_until", 0.0)
    read_gate.attach(gate.fileno())
    return clock


def test_a_wait_ends_at_its_bound_while_reads_continue(gate: ReadGate, followed: _Clock) -> None:
    read_gate.yield_to_reads()
    assert followed.sleeps == 0  # no read: no wait at all
    gate.enter()
    read_gate.yield_to_reads()
    assert followed.sleeps in _POLLS_PER_WAIT  # it returned, after waiting its bound
    waited = followed.sleeps
    followed.now += read_gate.MAX_WAIT / 4  # a quarter of the wait worked: no new wait yet
    read_gate.yield_to_reads()
    assert followed.sleeps == waited
    followed.now += read_gate.MAX_WAIT / 2  # past half of the wait: the next point waits again
    read_gate.yield_to_reads()
    assert followed.sleeps - waited in _POLLS_PER_WAIT
    gate.leave()


def _request(spans: int) -> bytes:
    trace = kit.trace_id()
    return kit.protobuf_request([kit.span(f"s{i}", trace=trace) for i in range(spans)])


def test_a_request_reaches_pause_points_in_every_stage(
    gate: ReadGate, followed: _Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(tmp_path / "lf.db")
    points: list[str] = []
    wait = read_gate.yield_to_reads

    def noted() -> None:
        points.append(sys._getframe(1).f_code.co_name)  # which stage paused
        wait()

    for module in ("langfuse_nb.server.otlp", "langfuse_nb.server.spans", "langfuse_nb.server.store.ingest"):
        monkeypatch.setattr(sys.modules[module], "yield_to_reads", noted)
    try:
        assert OtlpJob(_request(250), PROTOBUF, None, 1 << 22).run(db, BlobCache()) == {}
        assert followed.sleeps == 0  # pause points, but no read: nothing waited
        assert {"_spans", "map_groups", "write"} <= set(points)
        assert points.count("write") == 1 + 3  # before the trace rows, then per part of 100 observations
        gate.enter()
        points.clear()
        assert OtlpJob(_request(10), PROTOBUF, None, 1 << 22).run(db, BlobCache()) == {}
        # the first point waited its bound; this counted clock stands still while the job works, so
        # every later point falls in the time the worker then owes to ingest and does not wait
        assert followed.sleeps in _POLLS_PER_WAIT
        assert len(points) == 10 + 10 + 2
        gate.leave()
        assert db.reader.execute("SELECT count(*) FROM observations").fetchone()[0] == 260
    finally:
        db.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_worker_whose_gate_never_opens_still_stores_every_span(gate: ReadGate, tmp_path: Path) -> None:
    db = Database(tmp_path / "lf.db")
    pool = IngestWorkers(db, BlobCache(), workers=1, timeout=30.0, gate=gate)
    try:
        pool.run(OtlpJob(_request(1), PROTOBUF, None, 1 << 22))  # starts the worker (this one runs here)
        for _ in range(600):  # up to 30 s for the worker to start
            if pool.pids():
                break
            time.sleep(0.05)
        worker = pool.pids()[0]
        files = [os.readlink(fd) for fd in Path(f"/proc/{worker}/fd").iterdir()]
        assert any(f.startswith(tempfile.gettempdir()) and f.endswith("(deleted)") for f in files)
        gate.enter()  # a read that never ends
        for _ in range(3):
            assert pool.run(OtlpJob(_request(120), PROTOBUF, None, 1 << 22)) == {}
        gate.leave()
        stored = db.reader.execute("SELECT count(*) FROM observations").fetchone()[0]
        assert stored == 1 + 3 * 120
    finally:
        pool.close()
        db.close()


def test_a_request_written_in_parts_of_one_row_stores_the_golden_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write's parts (pause points between them) change nothing that is stored, even one row each."""
    import test_server_ingest_golden as golden

    from langfuse_nb.server.store import ingest

    monkeypatch.setattr(ingest, "_PART", 1)
    golden.test_stored_rows_match_golden(tmp_path, monkeypatch)
