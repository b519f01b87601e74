"""Python's cyclic garbage collector held off while a big read answer is built.

A 1,000-row answer allocates tens of thousands of small dicts, lists and tuples. Each 700 allocations
start a collection, and every tenth of those walks the older generations too: in the server process that
was ~12% of the CPU of a 1,000-trace page and of a 1,000-observation trace (perf, bench_server_reads'
database). The answers hold no reference cycles, so reference counting frees all of it as soon as the
response is rendered; the collector has nothing to find in them. ``paused()`` disables it for that span and
restores the state found on entry once the last concurrent request leaves (requests run on several
threads, and the switch is process-wide). The answer must be freed inside the block (render it there and
drop the built objects): whatever is still alive when the collector comes back is walked by its next pass.

The switch is process-wide, so it is only used where the server owns its interpreter (``langfuse-nb serve``,
which detached and notebook-started servers run, calls ``own_process()``). A server started in a thread of
someone else's process (``runner.start_in_thread`` in a kernel) leaves the collector alone: the user's code
would otherwise run without it while a read is in flight, and a ``gc.disable()`` of theirs could be undone.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0  # requests inside paused() right now
_restore = False  # whether the collector was enabled when the first of them entered
_owned = False  # set by own_process(): only then is the collector ours to switch


def own_process() -> None:
    """Declare that this interpreter runs only the server, so ``paused()`` may switch the collector."""
    global _owned
    _owned = True


@contextmanager
def paused() -> Iterator[None]:
    """Run the block with the cyclic collector disabled (reference counting still frees everything)."""
    global _depth, _restore
    if not _owned:
        yield
        return
    with _lock:
        if _depth == 0:
            _restore = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _restore:
                gc.enable()
