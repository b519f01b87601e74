"""ONE real-browser test: JupyterLab in Debian Chromium (Playwright) runs the quickstart, then edits a
prompt in the PromptBrowser widget while another version is saved elsewhere: the form shows that version
and asks, "Save mine anyway" saves. The notebook is saved, and its nbconvert HTML (no kernel, no widget
state, as nbviewer or GitHub see it) shows the widgets' content.

Needs /usr/lib/chromium/chromium (apt-get install chromium); skipped with a reason otherwise.
Screenshots go to $NBTEST_ARTIFACTS (default: the test's tmp dir).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from langfuse_nb.server.runner import ServerHandle, start_in_thread

CHROMIUM = next((p for p in ("/usr/lib/chromium/chromium", "/usr/bin/chromium") if os.path.exists(p)), None)
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "tst"
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
PROMPT = "browser-prompt"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (apt-get install chromium)"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_settings(root: Path) -> None:
    """No news toast or update check; every cell in the DOM; never the 'Select Kernel' dialog."""
    settings = {
        "apputils-extension/notification": {
            "fetchNews": "false",
            "checkForUpdates": False,
            "doNotDisturbMode": True,
        },
        "notebook-extension/tracker": {"windowingMode": "none", "autoStartDefaultKernel": True},
    }
    for key, value in settings.items():
        path = root / "user-settings" / "@jupyterlab" / f"{key}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


def _notebook(nbdir: Path) -> None:
    """The quickstart plus two cells: create a prompt and open it in the browser widget."""
    nb = nbformat.read(NOTEBOOKS / "quickstart.ipynb", as_version=4)
    nb.cells += [
        nbformat.v4.new_code_cell(
            f'langfuse.create_prompt(name="{PROMPT}", prompt="Hello {{{{name}}}}!", labels=["production"])'
        ),
        nbformat.v4.new_code_cell(f"%langfuse_prompt {PROMPT}"),
    ]
    nbformat.write(nb, nbdir / "quickstart.ipynb")


class Lab(str):
    """JupyterLab's base URL, plus the folder it serves."""

    def __new__(cls, base: str, nbdir: Path) -> Lab:
        made = super().__new__(cls, base)
        made.nbdir = nbdir  # type: ignore[attr-defined]
        return made


@pytest.fixture(scope="module")
def lf_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    handle = start_in_thread(port=0, db_path=tmp_path_factory.mktemp("browser-server") / "lf.db")
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, lf_server: ServerHandle) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("lab")
    nbdir = root / "nb"
    nbdir.mkdir()
    _notebook(nbdir)
    _write_settings(root)
    env = {key: val for key, val in os.environ.items() if not key.startswith(("LANGFUSE_", "JUPYTER"))}
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(root / "user-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(root / "ws"),
        JUPYTER_CONFIG_DIR=str(root / "config"),
        JUPYTER_DATA_DIR=str(root / "data"),
        JUPYTER_RUNTIME_DIR=str(root / "runtime"),
        LANGFUSE_PUBLIC_KEY=lf_server.public_key,
        LANGFUSE_SECRET_KEY=lf_server.secret_key,
        LANGFUSE_BASE_URL=lf_server.url,
    )
    port = _free_port()
    log = open(root / "jupyterlab.log", "w")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={TOKEN}",
            "--ServerApp.port_retries=0",
            "--allow-root",
            f"--ServerApp.root_dir={nbdir}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.news_url=None",
            "--LabApp.expose_app_in_browser=True",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=nbdir,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base, proc, root)
        yield Lab(base, nbdir)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _wait_for(base: str, proc: subprocess.Popen, root: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail("jupyter lab exited:\n" + (root / "jupyterlab.log").read_text()[-3000:])
        try:
            urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2).read()
            return
        except OSError:
            time.sleep(0.25)
    pytest.fail("jupyter lab did not come up in 60 s")


def test_quickstart_then_edit_and_save_a_prompt(lab: Lab, lf_server: ServerHandle, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    from langfuse_nb.api import LangfuseAPI

    api = LangfuseAPI(base_url=lf_server.url, username=lf_server.public_key, password=lf_server.secret_key)
    nbdir = Path(lab.nbdir)  # type: ignore[attr-defined]
    artifacts = Path(os.environ.get("NBTEST_ARTIFACTS", tmp_path))
    artifacts.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
        try:
            page.goto(f"{lab}/lab/workspaces/lfnb/tree/quickstart.ipynb?reset&token={TOKEN}")
            page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
            page.locator("#jp-main-statusbar").get_by_text("Idle").wait_for(timeout=60_000)
            page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
            # the quickstart ran: the inline trace view of the agent cell is on the page
            trace_view = page.locator(".lfnb-rows", has_text="fake-llm").first
            expect(trace_view).to_be_visible(timeout=60_000)
            trace_view.locator("summary", has_text="fake-llm").click()  # expand: input/output/usage
            expect(trace_view.locator("details[open]")).to_contain_text("Question: What is 6 times 7?")
            trace_view.evaluate("el => el.scrollIntoView({block: 'center'})")
            trace_view.screenshot(path=str(artifacts / "jupyterlab-trace-view.png"))
            # the prompt widget: type a new version; meanwhile someone saves one elsewhere
            widget = page.locator(".lfnb-prompt-browser").first
            expect(widget).to_be_visible(timeout=60_000)
            textarea = widget.locator(".lfnb-prompt-text textarea")
            expect(textarea).to_have_value("Hello {{name}}!", timeout=30_000)
            textarea.fill("Hello {{name}}, edited in the browser!")
            elsewhere = {"name": PROMPT, "prompt": "Changed elsewhere {{name}}", "type": "text"}
            api.prompts.create(request=elsewhere)
            widget.locator("button.lfnb-prompt-save").click()
            # the form noticed: it shows the newer version next to the draft and asks
            conflict = widget.locator(".lfnb-prompt-conflict")
            expect(conflict).to_contain_text("was saved elsewhere", timeout=30_000)
            expect(conflict).to_contain_text("Changed elsewhere")
            conflict.evaluate("el => el.scrollIntoView({block: 'center'})")
            page.screenshot(path=str(artifacts / "jupyterlab-prompt-conflict.png"))
            widget.locator("button.lfnb-prompt-save-anyway").click()
            status = page.locator(".lfnb-prompt-status", has_text="Saved version").first
            expect(status).to_contain_text(f"Saved version 3 of '{PROMPT}'.", timeout=30_000)
            page.screenshot(path=str(artifacts / "jupyterlab-prompt-browser.png"))
            # save; the file must show the widgets' content without a kernel (nbconvert, nbviewer, GitHub)
            page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
            page.locator(".jp-mod-dirty").first.wait_for(state="detached", timeout=30_000)
            html = _export_html(nbdir / "quickstart.ipynb", artifacts)
            exported = browser.new_context().new_page()
            exported.goto(html.as_uri())
            expect(exported.locator("body")).to_contain_text("Recent traces")
            expect(exported.locator("body")).to_contain_text("answer-question")
            expect(exported.locator("body")).to_contain_text("Hello {{name}}, edited in the browser!")
            exported.screenshot(path=str(artifacts / "saved-notebook-static.png"), full_page=True)
        finally:
            browser.close()
    assert api.prompts.get(PROMPT, version=2).prompt == "Changed elsewhere {{name}}"  # not lost
    assert api.prompts.get(PROMPT, version=3).prompt == "Hello {{name}}, edited in the browser!"
    assert "answer-question" in {t.name for t in api.trace.list(limit=20).data}


def _export_html(notebook: Path, artifacts: Path) -> Path:
    """The saved notebook as nbconvert HTML (what nbviewer shows), from the file JupyterLab wrote."""
    from nbconvert import HTMLExporter

    saved = nbformat.read(notebook, as_version=4)
    assert not saved.metadata.get("widgets"), "JupyterLab saved widget state; the static copy is not used"
    body, _ = HTMLExporter().from_notebook_node(saved)
    target = artifacts / "saved-notebook.html"
    target.write_text(body, encoding="utf-8")
    return target
