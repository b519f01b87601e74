"""The span export queue: compact while the server is down, nothing lost when it comes back, same wire."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from typing import Any

from _sink import Sink
from opentelemetry.sdk.trace import ReadableSpan

from langfuse_nb.sdk.client import Langfuse
from langfuse_nb.tracing.otlp import Encoded
from langfuse_nb.tracing.provider import TracingResources


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _resources(client: Langfuse) -> TracingResources:
    assert client._resources is not None
    return client._resources


def _wait_until(check: Any, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.02)
    return bool(check())


def test_a_burst_while_the_server_is_down_waits_as_bytes_and_arrives_when_it_is_back() -> None:
    port = _free_port()  # nothing listens here yet: connections are refused
    client = Langfuse(
        public_key=f"pk-lf-{uuid.uuid4().hex[:12]}", secret_key="sk", base_url=f"http://127.0.0.1:{port}"
    )
    worker = _resources(client).processor._worker
    sink: Sink | None = None
    try:
        for i in range(3000):
            client.start_span(name=f"down-{i}").end()
        # the worker encodes what is queued while it waits to retry: no span object is kept alive
        # (one batch of 512 is out of the queue: the one being retried)
        assert _wait_until(lambda: worker.pending == 3000 - 512 and not worker._queue, 10), worker.pending
        assert all(isinstance(item, Encoded) for item in list(worker._ready))
        assert not any(isinstance(item, ReadableSpan) for item in list(worker._ready))
        sink = Sink(port=port).start()
        client.flush(timeout=30)
        names = {s["name"] for s in sink.spans}
        assert names == {f"down-{i}" for i in range(3000)}
        assert len(sink.spans) == 3000  # each exactly once
        assert _resources(client).dropped["spans"] == 0
    finally:
        client.shutdown(timeout=5)
        if sink is not None:
            sink.stop()


def test_spans_queued_as_bytes_carry_what_a_directly_exported_span_carries(lf: Any) -> None:
    client = lf.client(environment="staging", release="r1")
    with client.start_as_current_observation(name="root", input={"q": 1}, metadata={"k": "v"}) as root:
        root.update_trace(user_id="u1", tags=["t"])
        with client.start_as_current_observation(name="gen", as_type="generation", model="m") as gen:
            gen.update(output="answer", usage_details={"input": 3})
    spans = {s["name"]: s for s in lf.spans(client)}
    assert spans["gen"]["parent_span_id"] == spans["root"]["span_id"]
    assert spans["gen"]["attributes"]["langfuse.observation.type"] == "generation"
    assert spans["gen"]["attributes"]["langfuse.observation.model.name"] == "m"
    assert spans["root"]["attributes"]["user.id"] == "u1"
    assert spans["root"]["resource"]["langfuse.environment"] == "staging"
    assert spans["root"]["scope"]["attributes"]["public_key"] == client._settings.public_key


def test_spans_ended_while_a_request_hangs_are_encoded_meanwhile() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []

    def accept_and_never_answer() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept_and_never_answer, daemon=True).start()
    port = listener.getsockname()[1]
    client = Langfuse(
        public_key=f"pk-lf-{uuid.uuid4().hex[:12]}",
        secret_key="sk",
        base_url=f"http://127.0.0.1:{port}",
        timeout=20,
    )
    worker = _resources(client).processor._worker
    try:
        client.start_span(name="first").end()
        client.flush(timeout=0.2)  # the first request is sent and hangs
        for i in range(2000):
            client.start_span(name=f"hung-{i}").end()
        assert _wait_until(lambda: worker.pending == 2000 and not worker._queue, 10), len(worker._queue)
        assert all(isinstance(item, Encoded) for item in list(worker._ready))
    finally:
        client.shutdown(timeout=0.5)
        listener.close()
        for conn in held:
            conn.close()


def test_interleaved_scopes_from_many_threads_go_only_where_they_belong(lf: Any) -> None:
    from opentelemetry.sdk.trace import TracerProvider

    provider = TracerProvider()
    a = lf.client(tracer_provider=provider, blocked_instrumentation_scopes=["noisy"])
    b = lf.client(tracer_provider=provider)
    noisy, other = provider.get_tracer("noisy"), provider.get_tracer("other-lib")
    run = uuid.uuid4().hex[:8]

    def end_spans(tag: str) -> None:
        for i in range(200):  # the scope changes from one span to the next, on every thread
            a.start_span(name=f"a-{tag}-{i}").end()
            b.start_span(name=f"b-{tag}-{i}").end()
            noisy.start_span(f"{run}-noisy-{tag}-{i}").end()
            other.start_span(f"{run}-other-{tag}-{i}").end()

    threads = [threading.Thread(target=end_spans, args=(str(t),)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    names_a = [s["name"] for s in lf.spans(a)]
    names_b = [s["name"] for s in lf.spans(b)]
    assert sorted(names_a) == sorted(f"a-{t}-{i}" for t in range(4) for i in range(200))
    assert sorted(names_b) == sorted(f"b-{t}-{i}" for t in range(4) for i in range(200))
    everything = [s["name"] for s in list(lf.sink.spans)]
    # third-party spans go to every processor on the shared provider that does not block their scope
    assert len([n for n in everything if n.startswith(f"{run}-noisy-")]) == 800  # b's only
    assert len([n for n in everything if n.startswith(f"{run}-other-")]) == 2 * 800


def test_a_server_that_comes_back_gets_the_backlog_without_waiting_out_the_backoff() -> None:
    port = _free_port()
    client = Langfuse(
        public_key=f"pk-lf-{uuid.uuid4().hex[:12]}", secret_key="sk", base_url=f"http://127.0.0.1:{port}"
    )
    sink: Sink | None = None
    try:
        client.start_span(name="while-down").end()
        client.flush(timeout=4.0)  # refused attempts at ~0, 0.5, 1.5 and ~3.2 s: the next waits another 3-4 s
        sink = Sink(port=port).start()
        up = time.monotonic()
        # the wait watches the port, so the span arrives well before the backoff's next attempt (>= 2.2 s)
        assert _wait_until(lambda: len(sink.spans) == 1, 10)
        assert time.monotonic() - up < 1.5, "the retry waited for the backoff instead of the server"
        assert _resources(client).dropped["spans"] == 0
    finally:
        client.shutdown(timeout=5)
        if sink is not None:
            sink.stop()


def test_a_forked_child_exports_its_own_spans_through_fresh_threads(lf: Any) -> None:
    client = lf.client()
    client.start_span(name="parent-before").end()
    client.flush(timeout=10)  # the parent's worker and post threads are running
    pid = os.fork()
    if pid == 0:  # the child: its spans go out through threads of its own, or it exits 1
        code = 1
        try:
            client.start_span(name="from-child").end()
            client.flush(timeout=10)
            code = 0 if _resources(client).processor.pending == 0 else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    client.start_span(name="parent-after").end()
    names = sorted(s["name"] for s in lf.spans(client))
    assert names == ["from-child", "parent-after", "parent-before"]
