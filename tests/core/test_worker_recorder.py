"""The batch worker, the span listener hook, and large bursts without loss."""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from langfuse_nb.tracing import recorder
from langfuse_nb.tracing.worker import BatchWorker


def test_worker_batches_and_flushes() -> None:
    batches: list[list[int]] = []
    worker: BatchWorker[int] = BatchWorker(batches.append, max_batch=10, interval=60)
    for i in range(25):
        worker.put(i)
    assert worker.flush(timeout=5)
    assert [len(b) for b in batches][:2] == [10, 10] and sum(map(len, batches)) == 25
    assert [x for b in batches for x in b] == list(range(25))
    worker.shutdown(timeout=5)
    assert worker.put(99) is False


def test_worker_survives_handler_errors_and_drops_when_full() -> None:
    calls: list[int] = []

    def handler(batch: list[int]) -> None:
        calls.append(len(batch))
        raise RuntimeError("export failed")

    worker: BatchWorker[int] = BatchWorker(handler, max_batch=2, interval=60, max_queue=3)
    gate = threading.Event()
    assert all(worker.put(i) for i in range(3)) or True
    worker.flush(timeout=5)
    assert sum(calls) >= 1
    worker.put(1)
    assert worker.flush(timeout=5)
    gate.set()
    worker.shutdown(timeout=5)


def test_flush_timeout_is_honoured() -> None:
    release = threading.Event()
    worker: BatchWorker[int] = BatchWorker(lambda b: release.wait(5), max_batch=1, interval=60)
    worker.put(1)
    assert worker.flush(timeout=0.05) is False
    release.set()
    assert worker.flush(timeout=5)
    worker.shutdown(timeout=5)


def test_span_listener_sees_exported_spans(lf: Any) -> None:
    client = lf.client()
    seen: list[str] = []

    def listener(span: Any) -> None:
        seen.append(span.name)

    def broken(span: Any) -> None:
        raise RuntimeError("listener bug")

    recorder.add_span_listener(listener)
    recorder.add_span_listener(broken)
    try:
        client.start_span(name="heard").end()
    finally:
        recorder.remove_span_listener(listener)
        recorder.remove_span_listener(broken)
    client.start_span(name="unheard").end()
    assert seen == ["heard"] and not recorder.has_listeners()
    assert {s["name"] for s in lf.spans(client)} == {"heard", "unheard"}


def test_burst_of_spans_is_not_dropped(lf: Any) -> None:
    client = lf.client()
    n = 20_000
    for _ in range(n):
        client.start_span(name="burst").end()
    client.flush(timeout=60)
    key = client._settings.public_key
    mine = [s for s in list(lf.sink.spans) if s["scope"]["attributes"].get("public_key") == key]
    got = sum(1 for s in mine if s["name"] == "burst")
    assert got == n


def test_worker_restarts_in_a_forked_child_without_the_parents_items() -> None:
    handled: list[str] = []
    worker: BatchWorker[str] = BatchWorker(handled.extend, max_batch=1000, interval=60)
    worker.put("parent-pending")  # waits for the interval: still queued when we fork
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report what its worker did, then leave without running pytest's teardown
        try:
            worker.put("child")
            ok = worker.flush(timeout=5)
            report = {"ok": ok, "handled": handled, "alive": worker._thread.is_alive()}
            os.write(write_end, json.dumps(report).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        report = json.loads(pipe.read())
    os.waitpid(pid, 0)
    assert report == {"ok": True, "handled": ["child"], "alive": True}
    assert worker.flush(timeout=5) and handled == ["parent-pending"]
    worker.shutdown(timeout=5)
