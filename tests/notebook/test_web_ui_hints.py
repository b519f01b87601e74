"""The local web UI tells people how to sign in: %load_ext's line, %langfuse_status, the 401 page."""

from __future__ import annotations

import httpx
import pytest

from langfuse_nb.notebook import connect as C
from langfuse_nb.notebook.status import status_lines
from langfuse_nb.server import runner

SIGN_IN = "sign in with user name pk-lf-local and password sk-lf-local"


def test_load_ext_line_and_status_say_how_to_sign_in(monkeypatch: pytest.MonkeyPatch, server) -> None:
    monkeypatch.setattr(runner, "ensure_server", lambda **kw: server)
    monkeypatch.setattr(C, "_OWN_URL", {})
    conn = C.connect({})
    assert f"its web UI: {server.url} ({SIGN_IN}" in conn.message and "\n" not in conn.message
    lines = status_lines(conn, None)
    assert any(line.startswith("web UI:") and SIGN_IN in line for line in lines)


def test_401_page_names_the_user_and_password(server) -> None:
    response = httpx.get(f"{server.url}/project/x/traces")
    assert response.status_code == 401 and "www-authenticate" in response.headers
    assert SIGN_IN in response.text


def test_401_page_with_own_keys_names_only_the_public_key(tmp_path) -> None:
    handle = runner.start_in_thread(
        port=0, db_path=tmp_path / "lf.db", public_key="pk-own", secret_key="sk-own"
    )
    try:
        page = httpx.get(f"{handle.url}/project/x/traces").text
    finally:
        handle.stop()
    assert "user name pk-own" in page and "sk-own" not in page


def test_trace_list_page_marks_failed_traces_and_keeps_microseconds(server, server_env) -> None:
    import uuid

    from langfuse_nb import Langfuse

    lf = Langfuse()
    tag = f"ui-{uuid.uuid4().hex[:8]}"
    with lf.start_as_current_observation(name=f"{tag}-ok") as span:
        span.update_trace(tags=[tag])
    with lf.start_as_current_observation(name=f"{tag}-bad") as span:
        span.update_trace(tags=[tag])
        span.update(level="ERROR", status_message="boom")
    lf.flush()
    auth = (server.public_key, server.secret_key)
    page = httpx.get(f"{server.url}/project/{_project(server)}/traces", params={"tags": tag}, auth=auth).text
    rows = {name: row for row in page.split("<tr>") for name in (f"{tag}-ok", f"{tag}-bad") if name in row}
    assert "lfnb-error-chip" in rows[f"{tag}-bad"] and "lfnb-error-chip" not in rows[f"{tag}-ok"]
    assert ">0 ms<" not in page and " µs<" in page  # sub-millisecond traces keep their microseconds


def _project(server) -> str:
    response = httpx.get(f"{server.url}/api/public/projects", auth=(server.public_key, server.secret_key))
    return response.json()["data"][0]["id"]
