"""Start/stop/reuse, the CLI, restart persistence and concurrent writers from several processes."""

from __future__ import annotations

import base64
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import server_testkit as kit

from langfuse_nb.server import runner

HERE = Path(__file__).parent


def _auth(handle):
    return (handle.public_key, handle.secret_key)


def test_defaults(monkeypatch, tmp_path):
    assert (runner.DEFAULT_PORT, runner.DEFAULT_PUBLIC_KEY, runner.DEFAULT_SECRET_KEY) == (
        3939,
        "pk-lf-local",
        "sk-lf-local",
    )
    monkeypatch.delenv("LANGFUSE_NB_DB", raising=False)
    assert runner.default_db_path() == Path.home() / ".langfuse_nb" / "langfuse.db"
    monkeypatch.setenv("LANGFUSE_NB_DB", str(tmp_path / "env.db"))
    assert runner.default_db_path() == tmp_path / "env.db"


def test_thread_server_reuse_and_stop(tmp_path):
    handle = runner.start_in_thread(db_path=tmp_path / "a.db")
    assert handle.started and handle.url.startswith("http://127.0.0.1:")
    port = int(handle.url.rsplit(":", 1)[1])
    reused = runner.start_in_thread(port=port, db_path=tmp_path / "other.db")
    assert not reused.started and reused.url == handle.url
    reused.stop()  # stopping a reused handle leaves the server alone
    assert runner.is_healthy(handle.url)
    with pytest.raises(runner.ServerStartError, match="rejects the keys"):
        runner.ensure_server(port=port, public_key="pk-other", secret_key="sk-other")
    handle.stop()
    handle.stop()  # idempotent
    assert not runner.is_healthy(handle.url)


def test_port_taken_by_something_else(tmp_path):
    import socket

    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    try:
        with pytest.raises(runner.ServerStartError):
            runner.start_in_thread(port=blocker.getsockname()[1], db_path=tmp_path / "b.db", timeout=2)
    finally:
        blocker.close()


def test_restart_persists_everything_exactly(tmp_path):
    db = tmp_path / "persist.db"
    tid = kit.trace_id()
    first = runner.start_in_thread(db_path=db)
    with httpx.Client(base_url=first.url, auth=_auth(first)) as http:
        attributes = {
            "langfuse.observation.input": '{"nested": {"x": [1, 2.5, "s", null]}}',
            "langfuse.trace.metadata.k": "v",
            "user.id": "persist-user",
        }
        span = kit.span("persist", trace=tid, start_ns=1_700_000_000_987_654_321, attributes=attributes)
        http.post(
            "/api/public/otel/v1/traces",
            content=kit.protobuf_request([span]),
            headers={"content-type": "application/x-protobuf"},
        ).raise_for_status()
        http.post("/api/public/v2/prompts", json={"name": "persisted", "prompt": "p"}).raise_for_status()
        before = http.get(f"/api/public/traces/{tid}").json()
    first.stop()
    second = runner.start_in_thread(db_path=db)
    with httpx.Client(base_url=second.url, auth=_auth(second)) as http:
        after = http.get(f"/api/public/traces/{tid}").json()
        assert after == before
        assert after["timestamp"] == "2023-11-14T22:13:20.987654Z"  # microseconds kept (DEVIATIONS S1)
        assert after["input"] == {"nested": {"x": [1, 2.5, "s", None]}}
        assert http.get("/api/public/v2/prompts/persisted", params={"label": "latest"}).status_code == 200
    second.stop()


def test_cli_serve_prints_url_and_keys_and_stops_on_sigint(tmp_path):
    port = runner._free_port("127.0.0.1")
    env = {**os.environ, "LANGFUSE_NB_DB": str(tmp_path / "cli.db")}
    process = subprocess.Popen(
        [sys.executable, "-m", "langfuse_nb", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while not runner.is_healthy(url) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert runner.is_healthy(url)
    finally:
        process.send_signal(2)
        out, err = process.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}" in out and "pk-lf-local" in out and "sk-lf-local" in out
    assert str(tmp_path / "cli.db") in out
    assert process.returncode == 0, err
    assert (tmp_path / "cli.db").exists()


def test_cli_fails_on_busy_port(tmp_path):
    assert runner.is_loopback_host("127.0.0.1") and runner.is_loopback_host("localhost")
    assert runner.is_loopback_host("[::1]") and not runner.is_loopback_host("0.0.0.0")
    handle = runner.start_in_thread(db_path=tmp_path / "busy.db")
    try:
        port = handle.url.rsplit(":", 1)[1]
        result = subprocess.run(
            [sys.executable, "-m", "langfuse_nb", "serve", "--port", port, "--db", str(tmp_path / "x.db")],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 1 and "already running" in result.stderr
    finally:
        handle.stop()
    help_text = subprocess.run(
        [sys.executable, "-m", "langfuse_nb", "--help"], capture_output=True, text=True
    )
    assert "serve" in help_text.stdout


def test_detached_server_outlives_and_is_reused(tmp_path):
    handle = runner.start_detached(port=0, db_path=tmp_path / "detached.db")
    try:
        assert handle.started and handle.pid and runner.is_healthy(handle.url)
        port = int(handle.url.rsplit(":", 1)[1])
        again = runner.ensure_server(port=port)
        assert not again.started and again.url == handle.url
        assert again.db_path == tmp_path / "detached.db"  # reported by the running server
    finally:
        handle.stop()
    assert not runner.is_healthy(handle.url)


WRITER = """
import sys, httpx
sys.path.insert(0, {here!r})
import server_testkit as kit
url, worker = sys.argv[1], int(sys.argv[2])
with httpx.Client(base_url=url, auth=("pk-lf-local", "sk-lf-local"), timeout=30) as http:
    for batch in range(10):
        spans = []
        for t in range(5):
            tid = f"{{worker:08x}}{{batch:08x}}{{t:016x}}"
            root = kit.span("root", trace=tid, attributes={{"user.id": f"w{{worker}}"}})
            spans += [root] + [kit.span("c", trace=tid, parent=root["span_id"]) for _ in range(9)]
        http.post("/api/public/otel/v1/traces", content=kit.protobuf_request(spans),
                  headers={{"content-type": "application/x-protobuf"}}).raise_for_status()
        score = {{"id": f"{{worker}}-{{batch}}", "type": "score-create", "timestamp": "2024-01-01T00:00:00Z",
                  "body": {{"traceId": tid, "name": "s", "value": 1}}}}
        assert http.post("/api/public/ingestion", json={{"batch": [score]}}).json()["errors"] == []
"""


def test_concurrent_writers_from_several_processes_lose_nothing(fresh_server):
    script = WRITER.format(here=str(HERE))
    workers = [subprocess.Popen([sys.executable, "-c", script, fresh_server.url, str(i)]) for i in range(4)]
    assert all(w.wait(timeout=60) == 0 for w in workers)
    with httpx.Client(base_url=fresh_server.url, auth=_auth(fresh_server)) as http:
        assert http.get("/api/public/traces", params={"limit": 1}).json()["meta"]["totalItems"] == 4 * 10 * 5
        assert http.get("/api/public/observations", params={"limit": 1}).json()["meta"]["totalItems"] == 2000
        assert http.get("/api/public/v2/scores", params={"limit": 1}).json()["meta"]["totalItems"] == 40
        assert (
            http.get("/api/public/traces", params={"userId": "w3", "limit": 1}).json()["meta"]["totalItems"]
            == 50
        )


def test_racing_detached_starts_on_one_port_all_succeed(tmp_path):
    """Two kernels calling ensure_server at once: the one whose process loses the bind reuses the winner."""
    from concurrent.futures import ThreadPoolExecutor

    port = runner._free_port("127.0.0.1")
    with ThreadPoolExecutor(3) as pool:
        futures = [
            pool.submit(runner.ensure_server, port=port, db_path=tmp_path / f"race{i}.db", timeout=20)
            for i in range(3)
        ]
        outcomes = []
        for future in futures:
            try:
                outcomes.append(future.result())
            except runner.ServerStartError as exc:
                outcomes.append(exc)
    handles = [h for h in outcomes if isinstance(h, runner.ServerHandle)]
    try:
        assert len(handles) == 3, [str(o) for o in outcomes if not isinstance(o, runner.ServerHandle)]
        assert {h.url for h in handles} == {f"http://127.0.0.1:{port}"}
        assert sum(h.started for h in handles) == 1  # the others know they reuse someone else's server
        assert runner.is_healthy(handles[0].url)
    finally:
        for handle in handles:
            handle.stop()


def test_cli_rejects_bad_port_and_unusable_database_without_traceback(tmp_path, capsys):
    from langfuse_nb import cli

    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", "--port", "99999", "--db", str(tmp_path / "x.db")])
    assert exited.value.code == 2 and "0-65535" in capsys.readouterr().err
    not_a_db = tmp_path / "garbage.db"
    not_a_db.write_bytes(b"this is not sqlite" * 100)
    assert cli.main(["serve", "--port", "0", "--db", str(not_a_db)]) == 1
    assert "cannot open the database" in capsys.readouterr().err
    blocked = tmp_path / "file"
    blocked.write_text("x")
    assert cli.main(["serve", "--port", "0", "--db", str(blocked / "sub" / "lf.db")]) == 1


def test_detached_start_on_a_port_held_by_another_program_says_so():
    import socket

    from langfuse_nb.server.runner import ServerStartError, start_detached

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    try:
        with pytest.raises(ServerStartError, match="in use by another program"):
            start_detached(port=holder.getsockname()[1], timeout=3)
    finally:
        holder.close()


def test_detached_server_keeps_the_secret_key_off_its_command_line(tmp_path):
    from langfuse_nb.server.runner import start_detached

    handle = start_detached(port=0, db_path=tmp_path / "lf.db", secret_key="sk-lf-very-secret", timeout=15)
    try:
        cmdline = Path(f"/proc/{handle.pid}/cmdline").read_bytes().decode()
        assert "sk-lf-very-secret" not in cmdline
        auth = (handle.public_key, "sk-lf-very-secret")
        response = httpx.get(f"{handle.url}/api/public/projects", auth=auth)
        assert response.status_code == 200
    finally:
        handle.stop()


def test_sigterm_lets_a_request_in_flight_finish(tmp_path):
    """SIGTERM arrives while a (slowly uploading) ingestion request is in flight: it still gets its 207."""
    import json
    import signal
    import socket
    import uuid
    from urllib.parse import urlparse

    handle = runner.start_detached(port=0, db_path=tmp_path / "term.db")
    trace_ids = [uuid.uuid4().hex for _ in range(20)]
    events = [{"id": f"e{i}", "type": "trace-create", "body": {"id": t}} for i, t in enumerate(trace_ids)]
    body = json.dumps({"batch": events}).encode()
    address = urlparse(handle.url)
    try:
        with socket.create_connection((address.hostname, address.port), timeout=20) as sock:
            token = base64.b64encode(f"{handle.public_key}:{handle.secret_key}".encode()).decode()
            sock.sendall(
                f"POST /api/public/ingestion HTTP/1.1\r\nHost: {address.netloc}\r\n"
                f"Authorization: Basic {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body[: len(body) // 2]
            )
            time.sleep(0.3)  # the server is now reading this request's body
            os.kill(handle.pid, signal.SIGTERM)
            time.sleep(4)  # longer than the 3 s uvicorn used to allow before cancelling with a 500
            sock.sendall(body[len(body) // 2 :])
            response = b""
            while b"\r\n\r\n" not in response or not response.rstrip().endswith(b"}"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                response += chunk
        assert response.startswith(b"HTTP/1.1 207"), response[:200]
        assert len(json.loads(response.split(b"\r\n\r\n", 1)[1])["successes"]) == 20
        deadline = time.monotonic() + 15
        while runner.is_healthy(handle.url) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not runner.is_healthy(handle.url)  # it did shut down
    finally:
        handle.stop()
    with sqlite3.connect(tmp_path / "term.db") as conn:
        marks = ", ".join("?" * len(trace_ids))
        stored = conn.execute(f"SELECT count(*) FROM traces WHERE id IN ({marks})", trace_ids).fetchone()
        assert stored[0] == 20


def test_a_request_cancelled_at_shutdown_gets_503_and_the_database_waits_for_it():
    """What uvicorn does when its graceful-shutdown time is up: cancel the request's task."""
    import asyncio

    from langfuse_nb.server.app import InFlight, _LastResort

    finished = []

    async def slow_app(scope, receive, send):
        try:
            await asyncio.sleep(10)
        finally:
            finished.append(True)

    async def scenario():
        sent = []

        async def send(message):
            sent.append(message)

        in_flight = InFlight()
        middleware = _LastResort(slow_app, in_flight)
        task = asyncio.create_task(middleware({"type": "http", "method": "POST", "path": "/x"}, None, send))
        await asyncio.sleep(0.05)
        assert in_flight.count == 1
        task.cancel()
        assert await in_flight.drained(5)
        return sent

    sent = asyncio.run(scenario())
    assert sent[0]["status"] == 503 and b"shutting down" in sent[1]["body"]
    assert finished == [True]


def test_cli_serve_takes_headless_init_keys_and_project_id(tmp_path):
    """LANGFUSE_INIT_PROJECT_{ID,PUBLIC_KEY,SECRET_KEY}, as a self-hosted Langfuse CI set-up passes them."""
    import httpx

    port = runner._free_port("127.0.0.1")
    env = {
        **os.environ,
        "LANGFUSE_NB_DB": str(tmp_path / "init.db"),
        "LANGFUSE_INIT_PROJECT_ID": "ci-project",
        "LANGFUSE_INIT_PROJECT_PUBLIC_KEY": "pk-lf-ci",
        "LANGFUSE_INIT_PROJECT_SECRET_KEY": "sk-lf-ci-secret",
    }
    env.pop("LANGFUSE_NB_SECRET_KEY", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "langfuse_nb", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while not runner.is_healthy(url) and time.monotonic() < deadline:
            time.sleep(0.05)
        projects = httpx.get(f"{url}/api/public/projects", auth=("pk-lf-ci", "sk-lf-ci-secret")).json()
        assert projects["data"][0]["id"] == "ci-project"
        assert httpx.get(f"{url}/api/public/projects", auth=("pk-lf-local", "sk-lf-local")).status_code == 401
    finally:
        process.send_signal(2)
        out, _err = process.communicate(timeout=10)
    assert "sk-lf-ci-secret" not in out  # a chosen secret is masked in the banner
