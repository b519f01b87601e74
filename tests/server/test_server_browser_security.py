"""A real Chromium as the attacker: a page on another loopback origin cannot change or read the local server.

The browser is signed in to the local UI (Playwright answers every Basic challenge, the worst case) and the
page also puts the published keys into its form URL. A control run with the guard switched off shows the
same page does create a prompt, so the test would notice the protection going missing.
"""

from __future__ import annotations

import http.server
import os
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from langfuse_nb.server import app as app_module
from langfuse_nb.server import http as http_module
from langfuse_nb.server.runner import ServerHandle, start_in_thread

CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/lib/chromium/chromium") if os.path.exists(p)), None)
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--host-resolver-rules=MAP rebind.test 127.0.0.1",  # a DNS name that "rebinds" to this machine
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (apt-get install chromium)"),
]

ATTACK_PAGE = """<!DOCTYPE html><html><body>
<form id="f" method="POST" enctype="text/plain" action="{form_target}/api/public/v2/prompts">
<input name='{{"name":"{prompt}","type":"text","prompt":"pwned","labels":["production"],"pad":"' value='"}}'>
</form>
<script>
async function attempt(name, url, init) {{
  try {{
    const response = await fetch(url, {{credentials: "include", ...init}});
    const opaque = response.type === "opaque";
    window.results[name] = opaque ? "opaque" : response.status + " " + await response.text();
  }} catch (error) {{ window.results[name] = "blocked: " + error; }}
}}
async function attack() {{
  window.results = {{}};
  const t = "{target}";
  const batch = JSON.stringify({{batch: [{{id: "e", type: "trace-create", body: {{id: "{evil_trace}"}}}}]}});
  await attempt("ingest", t + "/api/public/ingestion",
                {{method: "POST", mode: "no-cors", headers: {{"content-type": "text/plain"}}, body: batch}});
  await attempt("delete", t + "/api/public/traces/{victim}", {{method: "DELETE"}});
  await attempt("read", t + "/api/public/traces", {{}});
  const json = {{"content-type": "application/json"}};
  await attempt("json", t + "/api/public/v2/prompts", {{method: "POST", headers: json,
                body: JSON.stringify({{name: "{prompt}-json", type: "text", prompt: "x"}})}});
  window.done = true;  // the test submits the form next: it navigates this page away
}}
attack();
</script></body></html>"""


class _AttackerSite:
    """Serves one page from another loopback origin (a different port is a different origin)."""

    def __init__(self, page: str) -> None:
        body = page.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self.send_response(200)
                self.send_header("content-type", "text/html")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _victim_trace(handle: ServerHandle) -> str:
    trace_id = uuid.uuid4().hex
    event = {"id": "v", "type": "trace-create", "body": {"id": trace_id, "name": "victim-trace"}}
    response = httpx.post(
        f"{handle.url}/api/public/ingestion",
        json={"batch": [event]},
        auth=(handle.public_key, handle.secret_key),
    )
    assert response.status_code == 207
    return trace_id


def _run_attack(handle: ServerHandle) -> dict[str, Any]:
    """Open the attacker's page in a signed-in Chromium; return what its scripts saw and aimed at."""
    from playwright.sync_api import sync_playwright

    victim = _victim_trace(handle)
    names = {"prompt": f"evil-{uuid.uuid4().hex[:8]}", "evil_trace": uuid.uuid4().hex, "victim": victim}
    host = handle.url.split("//", 1)[1]
    page_html = ATTACK_PAGE.format(
        target=handle.url,
        form_target=f"http://{handle.public_key}:{handle.secret_key}@{host}",
        **names,
    )
    site = _AttackerSite(page_html)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                credentials = {"username": handle.public_key, "password": handle.secret_key}
                page = browser.new_context(http_credentials=credentials).new_page()
                page.goto(site.url)
                page.wait_for_function("window.done === true", timeout=20_000)
                results = page.evaluate("window.results")
                with page.expect_navigation(timeout=20_000):
                    page.evaluate("document.getElementById('f').submit()")
                results["form"] = page.content()[:300]
            finally:
                browser.close()
    finally:
        site.close()
    return {**names, "results": results}


def _api(handle: ServerHandle) -> httpx.Client:
    return httpx.Client(base_url=handle.url, auth=(handle.public_key, handle.secret_key), timeout=10)


@pytest.fixture
def local_server(tmp_path) -> Iterator[ServerHandle]:
    # the notebook's server: published default keys, loopback
    handle = start_in_thread(db_path=tmp_path / "lf.db")
    yield handle
    handle.stop()


def test_a_cross_origin_page_cannot_change_or_read_anything(local_server):
    attack = _run_attack(local_server)
    with _api(local_server) as api:
        assert api.get(f"/api/public/v2/prompts/{attack['prompt']}").status_code == 404
        assert api.get(f"/api/public/v2/prompts/{attack['prompt']}-json").status_code == 404
        assert api.get(f"/api/public/traces/{attack['evil_trace']}").status_code == 404
        assert api.get(f"/api/public/traces/{attack['victim']}").status_code == 200
    results = attack["results"]
    assert "victim-trace" not in str(results), results
    assert results["read"].startswith(("blocked", "403")), results
    assert "cross-site request refused" in results["form"], results  # the server said no, not the browser


def test_control_without_the_guard_the_same_page_writes(tmp_path, monkeypatch):
    """Proves the attack page is real: with the checks disabled it creates a production prompt."""

    class Passthrough:
        def __init__(self, app: Any, **_: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await self.app(scope, receive, send)

    monkeypatch.setattr(app_module, "SiteGuardMiddleware", Passthrough)
    monkeypatch.setattr(http_module, "_require_json_type", lambda _content_type: None)
    handle = start_in_thread(db_path=tmp_path / "control.db")
    try:
        attack = _run_attack(handle)
        with _api(handle) as api:
            created = api.get(f"/api/public/v2/prompts/{attack['prompt']}")
            assert created.status_code == 200, attack["results"]
            assert "production" in created.json()["labels"]
    finally:
        handle.stop()


def test_dns_rebinding_name_is_refused_and_the_local_ui_still_works(local_server):
    from playwright.sync_api import sync_playwright

    victim = _victim_trace(local_server)
    port = local_server.url.rsplit(":", 1)[1]
    with _api(local_server) as api:
        project = api.get("/api/public/projects").json()["data"][0]["id"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            credentials = {"username": local_server.public_key, "password": local_server.secret_key}
            page = browser.new_context(http_credentials=credentials).new_page()
            rebound = page.goto(f"http://rebind.test:{port}/api/public/traces")
            assert rebound is not None and rebound.status == 400
            assert "victim-trace" not in page.content()
            listed = page.goto(f"{local_server.url}/project/{project}/traces")
            assert listed is not None and listed.status == 200
            page.get_by_role("link", name="victim-trace").first.click()
            page.wait_for_load_state()
            assert victim in page.url and "victim-trace" in page.content()
            for host in ("localhost", "[::1]"):
                if host == "[::1]" and not _ipv6_loopback(int(port)):
                    continue
                other = page.goto(f"http://{host}:{port}/project/{project}/traces")
                assert other is not None and other.status in (200, 401), host
        finally:
            browser.close()


def _ipv6_loopback(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("::1", port), timeout=1):
            return True
    except OSError:
        return False
