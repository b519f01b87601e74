"""The local server refuses cross-site and rebinding requests, keeps secrets out of logs and files."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from langfuse_nb.server.guard import cross_site_reason, host_name, is_allowed_host
from langfuse_nb.server.redact import RedactingFilter, mask
from langfuse_nb.server.runner import (
    ServerStartError,
    check_exposure,
    start_detached,
    start_in_thread,
)

PROMPT_BODY = {"name": "guarded", "prompt": "hi", "type": "text", "labels": ["production"]}


def _prompt(name: str) -> dict[str, object]:
    return {**PROMPT_BODY, "name": name}


# ---- Host (DNS rebinding) -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("localhost:3939", "localhost"),
        ("[::1]:3939", "::1"),
        ("127.0.0.1", "127.0.0.1"),
        ("Evil.COM.:80", "evil.com"),
    ],
)
def test_host_name_parsing(header, name):
    assert host_name(header) == name


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("localhost", True),
        ("app.localhost", True),
        ("127.0.0.1", True),
        ("::1", True),
        ("192.168.1.20", True),  # an IP literal cannot be rebound
        ("evil.example", False),
        ("localhost.evil.example", False),
        ("myhost.lan", True),
    ],
)
def test_allowed_host_names(name, allowed):
    assert is_allowed_host(name, ["MyHost.lan"]) is allowed


def test_a_rebinding_host_is_refused_before_auth(client, server):
    for path in ("/api/public/health", "/api/public/traces", "/project/x/traces"):
        response = client.get(path, headers={"host": "rebind.attacker.example:1234"})
        assert response.status_code == 400, (path, response.text)
        assert "DNS rebinding" in response.json()["message"]
    assert client.get("/api/public/traces", headers={"host": "localhost"}).status_code == 200


def test_an_allowed_host_name_is_served(tmp_path):
    with start_in_thread(db_path=tmp_path / "lf.db", allowed_hosts=["notebook.internal"]) as handle:
        auth = (handle.public_key, handle.secret_key)
        ok = httpx.get(
            f"{handle.url}/api/public/projects", auth=auth, headers={"host": "notebook.internal:9"}
        )
        assert ok.status_code == 200
        bad = httpx.get(f"{handle.url}/api/public/projects", auth=auth, headers={"host": "other.internal"})
        assert bad.status_code == 400


# ---- cross-site browser requests ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "headers", "refused"),
    [
        ("POST", {}, False),  # an SDK: neither header
        ("POST", {b"sec-fetch-site": b"cross-site"}, True),
        ("POST", {b"sec-fetch-site": b"same-site"}, True),  # another port on localhost is another origin
        ("POST", {b"sec-fetch-site": b"same-origin", b"origin": b"http://127.0.0.1:1"}, False),
        ("POST", {b"origin": b"http://evil.example"}, True),
        ("POST", {b"origin": b"null"}, True),
        ("POST", {b"sec-fetch-site": b"cross-site", b"sec-fetch-mode": b"navigate"}, True),  # a form post
        ("GET", {b"sec-fetch-site": b"cross-site", b"sec-fetch-mode": b"navigate"}, False),  # a link
        ("GET", {b"sec-fetch-site": b"cross-site", b"sec-fetch-mode": b"cors"}, True),
        ("DELETE", {b"sec-fetch-site": b"none"}, False),
    ],
)
def test_cross_site_rules(method, headers, refused):
    assert (cross_site_reason(method, headers, b"127.0.0.1:1") is not None) is refused


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://127.0.0.1:9999"},
        {"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors"},
        {"sec-fetch-site": "same-site", "sec-fetch-mode": "cors", "origin": "http://localhost:8888"},
    ],
)
def test_cross_site_writes_are_refused_even_with_keys(client, headers):
    name = f"xsite-{uuid.uuid4().hex[:8]}"
    response = client.post("/api/public/v2/prompts", json=_prompt(name), headers=headers)
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "AccessDeniedError"
    assert client.get(f"/api/public/v2/prompts/{name}").status_code == 404


def test_same_origin_requests_still_work(client, server):
    name = f"same-{uuid.uuid4().hex[:8]}"
    headers = {"origin": server.url, "sec-fetch-site": "same-origin"}
    assert client.post("/api/public/v2/prompts", json=_prompt(name), headers=headers).status_code == 200


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
def test_json_endpoints_need_a_json_content_type(client, content_type):
    import json

    name = f"ctype-{uuid.uuid4().hex[:8]}"
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/api/public/v2/prompts", content=json.dumps(_prompt(name)), headers=headers)
    assert response.status_code == 415, response.text
    assert "application/json" in response.json()["message"]
    assert client.get(f"/api/public/v2/prompts/{name}").status_code == 404
    ok = {"content-type": "application/json; charset=utf-8"}
    assert (
        client.post("/api/public/v2/prompts", content=json.dumps(_prompt(name)), headers=ok).status_code
        == 200
    )


def test_credentials_in_the_url_of_a_cross_site_request_do_not_help(server):
    host = server.url.split("//", 1)[1]
    url = f"http://{server.public_key}:{server.secret_key}@{host}/api/public/ingestion"
    response = httpx.post(
        url,
        content=b'{"batch": []}',
        headers={
            "content-type": "text/plain",
            "origin": "http://evil.example",
            "sec-fetch-site": "cross-site",
        },
    )
    assert response.status_code == 403


# ---- exposure with default keys -------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.7.7", "myhost.lan"])
def test_default_keys_on_a_non_loopback_address_are_refused(host):
    with pytest.raises(ServerStartError, match="insecure-default-keys"):
        check_exposure(host, "sk-lf-local")
    check_exposure(host, "sk-lf-mine-123456789")
    check_exposure(host, "sk-lf-local", insecure_default_keys=True)
    check_exposure("127.0.0.1", "sk-lf-local")
    check_exposure("localhost", "sk-lf-local")


def test_start_in_thread_refuses_default_keys_on_all_interfaces(tmp_path):
    with pytest.raises(ServerStartError, match="default keys"):
        start_in_thread(host="0.0.0.0", db_path=tmp_path / "lf.db")


def test_cli_refuses_default_keys_on_all_interfaces(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "LANGFUSE_NB_SECRET_KEY"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "langfuse_nb",
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--db",
            str(tmp_path / "x.db"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 1
    assert "--insecure-default-keys" in result.stderr and result.stderr.count("\n") <= 2
    assert not (tmp_path / "x.db").exists()


# ---- secrets and file modes -----------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_directory_and_database_files_are_owner_only(tmp_path):
    db = tmp_path / "fresh" / "nested" / "lf.db"
    old_umask = os.umask(0o022)
    try:
        with start_in_thread(db_path=db) as handle:
            auth = (handle.public_key, handle.secret_key)
            event = {"id": "e", "type": "trace-create", "body": {"id": "t"}}
            assert (
                httpx.post(
                    f"{handle.url}/api/public/ingestion", json={"batch": [event]}, auth=auth
                ).status_code
                == 207
            )
            assert _mode(db.parent) == 0o700 and _mode(db.parent.parent) == 0o700
            for suffix in ("", "-wal", "-shm"):
                path = db.with_name(db.name + suffix)
                assert path.exists() and _mode(path) == 0o600, (suffix, oct(_mode(path)))
    finally:
        os.umask(old_umask)


def test_existing_world_readable_database_is_tightened(tmp_path):
    db = tmp_path / "old.db"
    with start_in_thread(db_path=db):
        pass
    db.chmod(0o644)
    with start_in_thread(db_path=db):
        assert _mode(db) == 0o600


def test_detached_server_log_has_no_secret_and_is_owner_only(tmp_path):
    secret = f"sk-lf-{uuid.uuid4().hex}"
    db = tmp_path / "data" / "lf.db"
    old_secret = f"sk-lf-old-{uuid.uuid4().hex}"  # what an earlier version left in a world-readable log
    db.parent.mkdir(mode=0o755)
    (db.parent / "server.log").write_text(
        f"  LANGFUSE_SECRET_KEY={old_secret}\n  LANGFUSE_SECRET_KEY=sk-lf-local\n"
    )
    (db.parent / "server.log").chmod(0o644)
    handle = start_detached(port=0, db_path=db, public_key="pk-lf-det", secret_key=secret)
    try:
        bad = httpx.get(f"{handle.url}/api/public/traces", auth=("pk-lf-det", secret + "x"))
        assert bad.status_code == 401
        ok = httpx.get(f"{handle.url}/api/public/traces", auth=("pk-lf-det", secret))
        assert ok.status_code == 200
    finally:
        handle.stop()
    log = db.parent / "server.log"
    text = log.read_text()
    assert "langfuse_nb server at" in text
    assert secret not in text and secret[-20:] not in text
    assert old_secret not in text and "LANGFUSE_SECRET_KEY=sk-lf-local" in text
    assert _mode(log) == 0o600 and _mode(db) == 0o600


def test_redacting_filter_covers_messages_arguments_and_tracebacks():
    secret = "sk-lf-0123456789abcdef"
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "key %s in %r", (secret, {"k": secret}), None)
    try:
        raise ValueError(f"bad key {secret}")
    except ValueError:
        record.exc_info = sys.exc_info()
    RedactingFilter([secret]).filter(record)
    formatted = logging.Formatter().format(record)
    assert secret not in formatted and "***" in formatted and "ValueError" in formatted
    assert mask(secret) == "sk-lf-...cdef" and mask("short") == "***"
