"""gcpause.paused(): the cyclic collector is off inside, and its state is restored once the last request
inside leaves, whatever the interleaving of threads."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from langfuse_nb.server import gcpause


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


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
