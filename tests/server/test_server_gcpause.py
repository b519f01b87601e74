"""gcpause.paused(): the cyclic collector is off inside, and its state is restored once the last request
inside leaves, whatever the interleaving of threads."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from langfuse_nb.server import gcpause


@pytest.fixture(autouse=True)
def collector_restored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    was = gc.isenabled()
    monkeypatch.setattr(gcpause, "_owned", True)  # as `langfuse-nb serve` declares (own_process)
    yield
    (gc.enable if was else gc.disable)()


def test_a_server_in_someone_elses_process_leaves_the_collector_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # runner.start_in_thread inside a kernel: the user's code keeps its collector while a read runs
    monkeypatch.setattr(gcpause, "_owned", False)
    gc.enable()
    with gcpause.paused():
        assert gc.isenabled()
        gc.disable()  # the user's own switch, made while a read is in flight, is not undone
    assert not gc.isenabled()


def test_serve_declares_the_process_its_own(tmp_path: Path) -> None:
    # the real `serve` entry up to the point where uvicorn would start serving
    code = (
        "import langfuse_nb.cli as c, langfuse_nb.server.gcpause as g, uvicorn;"
        "uvicorn.Server.run = lambda self, sockets=None: print(g._owned);"
        "c.main(['serve', '--port', '0', '--db', sys.argv[1]])"
    )
    out = subprocess.run(
        [sys.executable, "-c", "import sys;" + code, str(tmp_path / "t.db")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.strip().splitlines()[-1] == "True", out.stderr


def test_disabled_inside_and_restored_after() -> None:
    gc.enable()
    with gcpause.paused():
        assert not gc.isenabled()
        with gcpause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block is still inside
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    with gcpause.paused():
        pass
    assert not gc.isenabled()


def test_restored_after_an_exception() -> None:
    gc.enable()
    with pytest.raises(LookupError), gcpause.paused():
        raise LookupError("not found")
    assert gc.isenabled()


def test_overlapping_threads_restore_once_the_last_leaves() -> None:
    gc.enable()
    first_inside, second_inside, first_may_leave = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with gcpause.paused():
            first_inside.set()
            first_may_leave.wait(5)
        seen.append(gc.isenabled())  # the second thread is still inside: stays off

    def second() -> None:
        first_inside.wait(5)
        with gcpause.paused():
            second_inside.set()
            threads[0].join(5)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    second_inside.wait(5)
    first_may_leave.set()
    threads[1].join(5)
    assert seen == [False]
    assert gc.isenabled()
