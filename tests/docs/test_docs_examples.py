"""Every ```python example in docs/*.md and README.md runs, page by page, against a fresh local server.

One test per page: its blocks run in order in one namespace (as a reader would paste them), with
LANGFUSE_PUBLIC_KEY / SECRET_KEY / BASE_URL pointing at a server of its own, HOME and the working directory
in a temporary folder. A block preceded by ``<!-- docs-test: skip -->`` is not run; the test id counts them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from langfuse_nb.server.runner import ServerHandle, start_in_thread
from tests.docs.blocks import Block, python_blocks

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]


def _page_id(page: Path) -> str:
    blocks = python_blocks(page)
    skipped = sum(block.skipped for block in blocks)
    return f"{page.relative_to(ROOT)}[{len(blocks) - skipped} run, {skipped} skipped]"


@pytest.fixture
def page_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerHandle]:
    """A server with keys of its own: clients of one public key share a pipeline across pages."""
    suffix = uuid.uuid4().hex[:12]
    handle = start_in_thread(
        port=0, db_path=tmp_path / "server.db", public_key=f"pk-lf-{suffix}", secret_key=f"sk-lf-{suffix}"
    )
    home = tmp_path / "home"
    home.mkdir()
    for name, value in {
        "LANGFUSE_PUBLIC_KEY": handle.public_key,
        "LANGFUSE_SECRET_KEY": handle.secret_key,
        "LANGFUSE_BASE_URL": handle.url,
        "HOME": str(home),
        "LANGFUSE_NB_DB": str(home / "langfuse.db"),
        "LANGFUSE_NB_PROGRESS": "0",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("LANGFUSE_HOST", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    yield handle
    handle.stop()
    _stop_detached_servers_under(tmp_path)


def _stop_detached_servers_under(folder: Path) -> None:
    """An example that starts a detached server (ensure_server) must not leave it running after the test."""
    proc = Path("/proc")
    if not proc.is_dir():
        return
    for entry in proc.iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [word.decode(errors="replace") for word in argv]
        if "serve" in words and any(word.startswith(str(folder)) for word in words):
            with contextlib.suppress(OSError):
                os.kill(int(entry.name), signal.SIGTERM)


def _run(block: Block, namespace: dict[str, Any]) -> None:
    where = f"{block.path.relative_to(ROOT)}:{block.line}"
    failure = ""
    try:
        exec(compile(block.code, where, "exec"), namespace)  # noqa: S102 - running the docs is the point
    except BaseException:  # noqa: BLE001 - report which example failed, with its traceback
        failure = traceback.format_exc()
    if failure:
        pytest.fail(f"example at {where} failed:\n{failure}", pytrace=False)


def _shutdown_clients(namespace: dict[str, Any], public_key: str) -> None:
    """Stop the page's clients, so the next page's ``get_client()`` sees only its own."""
    from langfuse_nb import Langfuse
    from langfuse_nb.sdk import registry

    clients = [value for value in namespace.values() if isinstance(value, Langfuse)]
    clients.append(registry.registered_client(public_key))
    for client in clients:
        if client is not None:
            client.shutdown(timeout=5)
    registry._reset_for_tests()


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_page_examples_run(page: Path, page_server: ServerHandle) -> None:
    from langfuse_nb.sdk import registry

    registry._reset_for_tests()  # clients of earlier tests must not make get_client() ambiguous
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    try:
        for block in python_blocks(page):
            if not block.skipped:
                _run(block, namespace)
    finally:
        _shutdown_clients(namespace, page_server.public_key)
    assert os.environ["LANGFUSE_BASE_URL"] == page_server.url
