"""``langfuse-nb stop``: stops a detached ``langfuse-nb serve`` process, and nothing else."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from langfuse_nb.server.runner import is_healthy, start_detached, start_in_thread


def _stop(port: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "langfuse_nb", "stop", "--port", port]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_stop_ends_a_detached_server_and_is_idempotent(tmp_path: Path) -> None:
    handle = start_detached(port=0, db_path=tmp_path / "lf.db")
    try:
        port = handle.url.rsplit(":", 1)[1]
        done = _stop(port)
        assert done.returncode == 0 and f"stopped the server at {handle.url}" in done.stdout
        assert not is_healthy(handle.url)
        again = _stop(port)
        assert again.returncode == 0 and "no langfuse_nb server is running" in again.stdout
    finally:
        handle.stop()


def test_stop_refuses_a_server_running_inside_another_process(tmp_path: Path) -> None:
    handle = start_in_thread(port=0, db_path=tmp_path / "lf.db")
    try:
        done = _stop(handle.url.rsplit(":", 1)[1])
        assert done.returncode == 1 and "not a `langfuse-nb serve` process" in done.stderr
        assert is_healthy(handle.url)  # this test process (the "kernel") was not killed
    finally:
        handle.stop()
