"""The main job (``langfuse_nb.notebook.demo``): its closing lines; no server left behind on failure."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from langfuse_nb.notebook import demo
from langfuse_nb.notebook.connect import Connection
from langfuse_nb.server.runner import ServerHandle, is_healthy, start_in_thread


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No LANGFUSE_* keys, a temporary HOME and database; ``connect`` writes os.environ, so restore it all."""
    saved = dict(os.environ)
    for name in ("LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY", "LANGFUSE_BASE_URL", "LANGFUSE_HOST"):
        os.environ.pop(name, None)
    (tmp_path / "home").mkdir()
    os.environ["HOME"] = str(tmp_path / "home")
    os.environ["LANGFUSE_NB_DB"] = str(tmp_path / "home" / "lf.db")
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in sources])
    nbformat.write(nb, path)
    return path


def test_a_failing_run_stops_the_server_it_started(
    tmp_path: Path, clean_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    notebook = _notebook(tmp_path / "fails.ipynb", "raise RuntimeError('boom in a cell')")
    status = demo.main(["--notebook", str(notebook), "--output", str(tmp_path / "out.ipynb"), "--port", "0"])
    out, err = capsys.readouterr()
    assert status == 1 and "a notebook cell raised RuntimeError: boom in a cell" in err
    url = re.search(r"started the local server at (http://\S+?),", out)
    assert url, out
    assert not is_healthy(url.group(1)), "the demo left the server it started running"
    assert "stopped the local server this demo started" in err


def test_a_failing_run_leaves_a_reused_server_running(
    tmp_path: Path, clean_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_in_thread(port=0, db_path=tmp_path / "other.db")
    try:
        port = server.url.rsplit(":", 1)[1]
        notebook = _notebook(tmp_path / "fails.ipynb", "raise RuntimeError('boom')")
        args = ["--notebook", str(notebook), "--output", str(tmp_path / "o.ipynb"), "--port", port]
        assert demo.main(args) == 1
        assert "reusing the local server" in capsys.readouterr().out
        assert is_healthy(server.url)
    finally:
        server.stop()


def _result(tmp_path: Path, server: ServerHandle | None, url: str) -> demo.DemoResult:
    connection = Connection("local" if server else "configured", url, "", server)
    return demo.DemoResult(connection, tmp_path / "quickstart.executed.ipynb", 1.0)


def test_closing_lines_name_the_web_ui_keys_notebook_and_how_to_stop(tmp_path: Path) -> None:
    handle = ServerHandle("http://127.0.0.1:3939", "pk-lf-local", "sk-lf-local", None, True)
    lines = demo.where_to_look(_result(tmp_path, handle, handle.url))
    assert lines == [
        "traces:   http://127.0.0.1:3939/project/langfuse-nb-local/traces  "
        "(sign in with pk-lf-local / sk-lf-local)",
        f"notebook: {tmp_path / 'quickstart.executed.ipynb'}",
        "stop the local server with: langfuse-nb stop",
    ]
    other = ServerHandle("http://127.0.0.1:4000", "pk-a", "sk-b", None, False)
    last = demo.where_to_look(_result(tmp_path, other, other.url))[-1]
    assert last.endswith("langfuse-nb stop --port 4000")


def test_closing_lines_for_a_configured_langfuse_have_no_stop_hint(tmp_path: Path) -> None:
    lines = demo.where_to_look(_result(tmp_path, None, "https://cloud.langfuse.com"))
    assert lines[0].startswith("traces:   https://cloud.langfuse.com") and len(lines) == 2
