"""The server's ingest worker process: same answers, nothing lost when it dies, hangs or cannot start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import server_testkit as kit

from langfuse_nb.server.ingest_jobs import OtlpJob
from langfuse_nb.server.ingest_worker import IngestWorkers
from langfuse_nb.server.runner import ServerHandle, start_detached, start_in_thread
from langfuse_nb.server.store.db import Database
from langfuse_nb.server.store.resources import BlobCache

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

A = "langfuse.observation"
PROTOBUF = {"content-type": "application/x-protobuf"}
SECRET = "sk-lf-worker-test-secret"


def _children(pid: int) -> list[int]:
    """Ingest worker processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if ppid == pid and b"ingest_worker" in cmdline:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(predicate, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _batch(trace: str, count: int, name: str = "s") -> tuple[bytes, list[str]]:
    spans = [kit.span(f"{name}{i}", trace=trace) for i in range(count)]
    return kit.protobuf_request(spans), [s["span_id"] for s in spans]


def _stored_ids(http: httpx.Client, trace: str) -> set[str]:
    return {o["id"] for o in http.get(f"/api/public/traces/{trace}").json().get("observations", [])}


def _post(http: httpx.Client, body: bytes) -> httpx.Response:
    return http.post("/api/public/otel/v1/traces", content=body, headers=PROTOBUF)


@pytest.fixture
def worker_server(tmp_path: Path) -> Iterator[ServerHandle]:
    handle = start_in_thread(port=0, db_path=tmp_path / "lf.db", secret_key=SECRET, ingest_workers=1)
    yield handle
    handle.stop()


def _client(handle: ServerHandle) -> httpx.Client:
    return httpx.Client(base_url=handle.url, auth=(handle.public_key, handle.secret_key), timeout=60)


def _workers(db: Path | None) -> list[int]:
    """This process's ingest workers that have ``db`` open (other servers of the session have theirs)."""
    return [pid for pid in _children(os.getpid()) if str(db) in _open_files(pid)]


def _started_worker(http: httpx.Client, db: Path | None) -> int:
    """Send one span (the first ingest starts the worker) and wait until it has opened the database, which
    it does right before saying it is ready."""
    body, _ = _batch(kit.trace_id(), 1)
    assert _post(http, body).status_code == 200
    assert _wait_for(lambda: len(_workers(db)) == 1)
    time.sleep(0.2)
    return _workers(db)[0]


def _open_files(pid: int) -> list[str]:
    try:
        return [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
    except OSError:
        return []


def test_spans_are_stored_by_the_worker_which_holds_no_secret(worker_server: ServerHandle) -> None:
    with _client(worker_server) as http:
        pid = _started_worker(http, worker_server.db_path)
        environ = Path(f"/proc/{pid}/environ").read_bytes() + Path(f"/proc/{pid}/cmdline").read_bytes()
        assert SECRET.encode() not in environ
        assert b"LANGFUSE_" not in environ
        trace = kit.trace_id()
        body, ids = _batch(trace, 20)
        cpu_before = _cpu(pid)
        for _ in range(20):  # the same spans again: upserts; enough work to show up in the worker's CPU
            response = _post(http, body)
            assert response.status_code == 200 and response.json() == {}
        assert _stored_ids(http, trace) == set(ids)
        assert _cpu(pid) > cpu_before  # the worker did the work
        assert _workers(worker_server.db_path) == [pid]


def _cpu(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_answers_are_the_same_with_and_without_the_worker(tmp_path: Path) -> None:
    """Partial success, 400s, 415s and ingestion's 207 come back byte for byte the same."""
    # an OTLP/JSON array nested deeper than the storage limit: stored truncated, and said so
    nested = '{"arrayValue":{"values":[' * 254 + '{"stringValue":"x"}' + "]}}" * 254
    span = (
        f'{{"traceId":"{"ab" * 16}","spanId":"{"2" * 16}","name":"deep",'
        f'"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000001000000","attributes":[{{"key":"custom","value":{nested}}}]}}'
    )
    deep_body = f'{{"resourceSpans":[{{"scopeSpans":[{{"scope":{{"name":"x"}},"spans":[{span}]}}]}}]}}'
    bad_span = kit.span("bad", trace="00" * 16)
    requests = [
        ("otel", kit.protobuf_request([kit.span("ok", trace=kit.trace_id(), sid="1" * 16)]), PROTOBUF),
        ("otel", b"not protobuf", PROTOBUF),
        ("otel", b"{}", {"content-type": "text/plain"}),
        ("otel", kit.protobuf_request([bad_span]), PROTOBUF),
        ("otel", b"\x1f\x8b garbage", {**PROTOBUF, "content-encoding": "gzip"}),
        ("otel", deep_body.encode(), {"content-type": "application/json"}),
        (
            "ingestion",
            json.dumps(
                {
                    "batch": [
                        {"id": "e1", "type": "trace-create", "body": {"id": "t-same", "name": "x"}},
                        {"id": "e2", "type": "nonsense", "body": {}},
                        {"id": "e3", "type": "score-create", "body": {"traceId": "t-same", "name": "s"}},
                    ]
                }
            ).encode(),
            {"content-type": "application/json"},
        ),
    ]
    answers = []
    for workers in (0, 1):
        with (
            start_in_thread(port=0, db_path=tmp_path / f"w{workers}.db", ingest_workers=workers) as handle,
            _client(handle) as http,
        ):
            if workers:
                _started_worker(http, tmp_path / f"w{workers}.db")
            got = []
            for kind, body, headers in requests:
                path = "/api/public/otel/v1/traces" if kind == "otel" else "/api/public/ingestion"
                response = http.post(path, content=body, headers=headers)
                got.append((response.status_code, response.content))
            answers.append(got)
    assert answers[0] == answers[1]
    assert {status for status, _ in answers[0]} == {200, 207, 400}
    assert b"partialSuccess" in answers[0][5][1]


def test_killing_the_worker_during_a_burst_loses_no_acknowledged_span(worker_server: ServerHandle) -> None:
    with _client(worker_server) as http:
        first = _started_worker(http, worker_server.db_path)
    trace = kit.trace_id()
    acknowledged: set[str] = set()
    failures: list[str] = []
    lock = threading.Lock()
    under_way = threading.Event()

    def sender(offset: int) -> None:
        with _client(worker_server) as own:
            for round_ in range(15):
                body, ids = _batch(trace, 150, name=f"b{offset}-{round_}-")
                response = _post(own, body)
                with lock:
                    if response.status_code == 200:
                        acknowledged.update(ids)
                    else:
                        failures.append(response.text)
                under_way.set()

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    # killed once the burst is under way (a fixed delay let a fast machine finish the burst first)
    assert under_way.wait(60)
    os.kill(first, signal.SIGKILL)
    for thread in threads:
        thread.join(120)
        assert not thread.is_alive(), "a request hung"
    assert not failures
    assert len(acknowledged) == 3 * 15 * 150
    with _client(worker_server) as http:
        assert _stored_ids(http, trace) >= acknowledged
        # the pool finds a dead worker when it hands it a job: this one, if the burst ended before the kill
        assert _post(http, _batch(kit.trace_id(), 3)[0]).status_code == 200
        # a new worker took over
        assert _wait_for(lambda: [p for p in _workers(worker_server.db_path) if p != first])
        assert _post(http, _batch(kit.trace_id(), 3)[0]).status_code == 200


def _job(body: bytes) -> OtlpJob:
    return OtlpJob(body, "application/x-protobuf", None, 1 << 20)


@contextmanager
def _pool(db_path: Path, *, workers: int, timeout: float) -> Iterator[tuple[Database, IngestWorkers]]:
    db = Database(db_path)
    pool = IngestWorkers(db, BlobCache(), workers=workers, timeout=timeout)
    try:
        yield db, pool
    finally:
        pool.close()
        db.close()


def test_a_hung_worker_is_replaced_and_its_request_done_in_the_server(tmp_path: Path) -> None:
    with _pool(tmp_path / "lf.db", workers=1, timeout=1.0) as (db, pool):
        trace = kit.trace_id()
        body, ids = _batch(trace, 5)
        job = _job(body)
        assert pool.run(job) == {}  # in the server: the worker is only starting
        assert _wait_for(lambda: len(pool.pids()) == 1)
        hung = pool.pids()[0]
        os.kill(hung, signal.SIGSTOP)
        body2, ids2 = _batch(trace, 5, name="after")
        started = time.monotonic()
        assert pool.run(_job(body2)) == {}
        assert time.monotonic() - started < 10
        assert not _alive(hung)
        assert _wait_for(lambda: len(pool.pids()) == 1 and pool.pids()[0] != hung)
        stored = {r[0] for r in db.reader.execute("SELECT id FROM observations WHERE trace_id = ?", (trace,))}
        assert stored == set(ids) | set(ids2)


def test_ingest_works_in_the_server_when_no_worker_can_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    with (
        start_in_thread(port=0, db_path=tmp_path / "lf.db", ingest_workers=1) as handle,
        _client(handle) as http,
    ):
        trace = kit.trace_id()
        for round_ in range(5):
            body, _ = _batch(trace, 4, name=f"r{round_}-")
            assert _post(http, body).status_code == 200
            time.sleep(0.1)
        assert len(_stored_ids(http, trace)) == 20
        assert _workers(tmp_path / "lf.db") == []


def test_the_worker_stops_with_the_server_and_lets_go_of_the_database(tmp_path: Path) -> None:
    handle = start_in_thread(port=0, db_path=tmp_path / "lf.db", ingest_workers=1)
    with _client(handle) as http:
        pid = _started_worker(http, tmp_path / "lf.db")
    handle.stop()
    assert not _alive(pid)
    assert not [p for p in _holders(tmp_path / "lf.db") if p != os.getpid()]


def _holders(path: Path) -> list[int]:
    """Processes with ``path`` open (Linux /proc/*/fd)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        if str(path) in _open_files(int(entry.name)):
            found.append(int(entry.name))
    return found


def test_a_detached_server_stops_its_worker_on_a_clean_shutdown(tmp_path: Path) -> None:
    handle = start_detached(port=0, db_path=tmp_path / "lf.db", timeout=30)
    assert handle.pid is not None
    with _client(handle) as http:
        assert _post(http, _batch(kit.trace_id(), 2)[0]).status_code == 200
        assert _wait_for(lambda: len(_children(handle.pid or 0)) == 1)
        worker = _children(handle.pid)[0]
    handle.stop()
    assert _wait_for(lambda: not _alive(worker), timeout=10)
    assert not [p for p in _holders(tmp_path / "lf.db") if p != os.getpid()]


def test_the_worker_dies_with_a_killed_detached_server(tmp_path: Path) -> None:
    handle = start_detached(port=0, db_path=tmp_path / "lf.db", timeout=30)
    try:
        assert handle.pid is not None
        with _client(handle) as http:
            body, _ = _batch(kit.trace_id(), 2)
            assert _post(http, body).status_code == 200
            assert _wait_for(lambda: len(_children(handle.pid or 0)) == 1)
            worker = _children(handle.pid)[0]
        os.kill(handle.pid, signal.SIGKILL)
        assert _wait_for(lambda: not _alive(worker), timeout=10)
    finally:
        handle.stop()


def test_a_model_created_after_the_worker_started_prices_the_next_span(worker_server: ServerHandle) -> None:
    with _client(worker_server) as http:
        _started_worker(http, worker_server.db_path)
        model = {
            "modelName": "worker-test-model",
            "matchPattern": "(?i)^(worker-test-model)$",
            "unit": "TOKENS",
            "inputPrice": 0.5,
            "outputPrice": 1.5,
        }
        assert http.post("/api/public/models", json=model).status_code == 200
        gen = kit.span(
            "gen",
            trace=kit.trace_id(),
            attributes={
                f"{A}.type": "generation",
                f"{A}.model.name": "worker-test-model",
                f"{A}.usage_details": json.dumps({"input": 10, "output": 2}),
            },
        )
        assert _post(http, kit.protobuf_request([gen])).status_code == 200
        obs = http.get(f"/api/public/observations/{gen['span_id']}").json()
        assert obs["calculatedTotalCost"] == pytest.approx(10 * 0.5 + 2 * 1.5)
        assert obs["inputPrice"] == 0.5 and obs["outputPrice"] == 1.5


_KERNEL_CELL = """
import json, os, time
from pathlib import Path
import httpx
from langfuse_nb import Langfuse
from langfuse_nb.server.runner import start_in_thread

def workers():
    found = []
    for entry in Path("/proc").iterdir():
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid == os.getpid() and b"ingest_worker" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except (OSError, ValueError):
            pass
    return found

handle = start_in_thread(port=0, db_path=DB, ingest_workers=1)
lf = Langfuse(public_key=handle.public_key, secret_key=handle.secret_key, base_url=handle.url)
for round_ in range(15):
    for i in range(10):
        with lf.start_as_current_observation(name=f"k{round_}-{i}"):
            pass
    lf.flush()
    time.sleep(0.1)
during = workers()
with httpx.Client(base_url=handle.url, auth=(handle.public_key, handle.secret_key)) as http:
    stored = http.get("/api/public/observations", params={"limit": 1}).json()["meta"]["totalItems"]
lf.shutdown()
handle.stop()
deadline = time.monotonic() + 10  # a stopped worker leaves the process table once it is reaped
while workers() and time.monotonic() < deadline:
    time.sleep(0.02)
print(json.dumps({"during": len(during), "stored": stored, "after": len(workers())}))
"""


def test_a_server_in_a_kernel_thread_ingests_through_its_worker(tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    source = f"DB = {str(tmp_path / 'lf.db')!r}\n" + _KERNEL_CELL
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    NotebookClient(nb, timeout=120, startup_timeout=60, kernel_name="python3").execute()
    printed = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert json.loads(printed.strip().splitlines()[-1]) == {"during": 1, "stored": 150, "after": 0}


def test_prompts_created_and_counts_cached_in_the_server_stay_right(worker_server: ServerHandle) -> None:
    """A prompt created after the worker started links the next span; a list's remembered count follows
    the worker's commits (counts are kept per data_version, which another process's commit changes)."""
    with _client(worker_server) as http:
        _started_worker(http, worker_server.db_path)
        before = http.get("/api/public/traces", params={"limit": 1}).json()["meta"]["totalItems"]
        created = http.post("/api/public/v2/prompts", json={"name": "w-link", "prompt": "p", "type": "text"})
        assert created.status_code == 200
        trace = kit.trace_id()
        gen = kit.span(
            "linked",
            trace=trace,
            attributes={f"{A}.type": "generation", f"{A}.prompt.name": "w-link", f"{A}.prompt.version": 1},
        )
        assert _post(http, kit.protobuf_request([gen])).status_code == 200
        (stored,) = http.get(f"/api/public/traces/{trace}").json()["observations"]
        assert stored["promptId"] == created.json()["id"]
        after = http.get("/api/public/traces", params={"limit": 1}).json()["meta"]["totalItems"]
        assert after == before + 1


def test_a_second_worker_starts_only_when_jobs_overlap(tmp_path: Path) -> None:
    with _pool(tmp_path / "lf.db", workers=2, timeout=30.0) as (db, pool):
        trace = kit.trace_id()
        first_body, first_ids = _batch(trace, 5)
        pool.run(_job(first_body))  # starts the first worker
        assert _wait_for(lambda: len(pool.pids()) == 1)
        stored: set[str] = set(first_ids)
        for round_ in range(5):  # one sender, one request at a time: never a second worker
            body, ids = _batch(trace, 50, name=f"seq{round_}-")
            pool.run(_job(body))
            stored.update(ids)
        # a second worker would be ready in ~0.2 s (it is started in the background): none comes
        assert not _wait_for(lambda: len(pool.pids()) > 1, timeout=2.0)
        lock = threading.Lock()

        def sender(offset: int) -> None:
            for round_ in range(20):
                body, ids = _batch(trace, 300, name=f"par{offset}-{round_}-")
                pool.run(_job(body))
                with lock:
                    stored.update(ids)
                if len(pool.pids()) == 2:
                    return

        threads = [threading.Thread(target=sender, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert _wait_for(lambda: len(pool.pids()) == 2)  # two senders at once: the second started
        kept = {r[0] for r in db.reader.execute("SELECT id FROM observations WHERE trace_id = ?", (trace,))}
        assert kept == stored


def _default_workers(cores: set[int]) -> int:
    code = "from langfuse_nb.server.config import DEFAULT_INGEST_WORKERS; print(DEFAULT_INGEST_WORKERS)"
    env = {k: v for k, v in os.environ.items() if k != "LANGFUSE_NB_INGEST_WORKERS"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        preexec_fn=lambda: os.sched_setaffinity(0, cores),
    )
    return int(done.stdout)


def test_the_default_ceiling_is_one_worker_on_one_usable_core() -> None:
    usable = os.sched_getaffinity(0)
    assert _default_workers({min(usable)}) == 1  # e.g. a container or taskset allowing one core
    assert _default_workers(usable) == (2 if len(usable) >= 2 else 1)
