"""Run a coroutine to completion from synchronous code, wherever that code runs.

Three situations, one entry point (:func:`run_sync`):

* **No running loop** in this thread (a script, a worker thread, a plain IPython shell):
  ``asyncio.run`` on a fresh loop.
* **A running loop** in this thread (a Jupyter kernel runs sync cell code *inside* its loop, or sync
  code called from a coroutine): the coroutine runs **on that same loop**. The caller's thread is
  blocked in our call, so nothing else would turn the loop; we turn it ourselves by running loop
  iterations (``loop._run_once()``) until our task is done. While we do, the task that made the call
  is marked "not current" (``_leave_task``) so the loop may step other tasks, and is marked current
  again afterwards. Nothing is patched: no ``nest_asyncio``, no change outside the call. Objects bound
  to the caller's loop (locks, queues, an ``httpx.AsyncClient`` with pooled connections) keep working
  inside the coroutine.
* **A running loop we cannot drive** (not a ``BaseEventLoop``, e.g. uvloop): the coroutine runs on a
  private loop in a helper thread; loop-bound objects of the caller do not work there.

Interrupts: a ``KeyboardInterrupt`` (Ctrl-C, a kernel interrupt) while the coroutine runs cancels it,
lets it unwind (bounded), and is raised again as :class:`RunInterrupted` (a ``KeyboardInterrupt``)
that IPython shows as one line instead of a traceback through asyncio internals. A cancellation
request on the calling task (how ``asyncio.run`` delivers Ctrl-C) does the same and raises
``CancelledError`` in the caller.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import inspect
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

# How long an interrupted coroutine may take to unwind before we give up waiting for it.
_UNWIND_SECONDS = 2.0


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C or a kernel interrupt; shown in IPython as one line, no traceback.

    Whoever keeps the finished part sets ``partial_result``; when that object has a
    ``interrupt_summary()`` method, its text is the line shown.
    """

    partial_result: Any = None

    def __str__(self) -> str:
        describe = getattr(self.partial_result, "interrupt_summary", None)
        return describe() if callable(describe) else "interrupted"

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of formatting the traceback (a user's Ctrl-C is not a bug of ours)
        return [f"KeyboardInterrupt: {self}"]


def run_sync(coro_factory: Callable[[], Awaitable[T]]) -> T:
    """Run ``coro_factory()`` to completion and return its result (see module docstring)."""
    try:
        return _run_sync(coro_factory)
    except RunInterrupted:
        raise
    except KeyboardInterrupt:
        raise RunInterrupted() from None


def _run_sync(coro_factory: Callable[[], Awaitable[T]]) -> T:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_as_coroutine(coro_factory))
    if can_drive(loop):
        return _drive_nested(loop, coro_factory)
    return _run_in_helper_thread(coro_factory)


def can_drive(loop: asyncio.AbstractEventLoop) -> bool:
    """True when we can run iterations of ``loop`` from inside one of its callbacks."""
    return isinstance(loop, asyncio.BaseEventLoop) and hasattr(loop, "_run_once")


async def _as_coroutine(factory: Callable[[], Awaitable[T]]) -> T:
    return await factory()


class _HoldBack(collections.deque):  # type: ignore[type-arg]
    """The loop's ready queue while we drive it from inside a callback: callbacks whose context is
    entered on our stack cannot run now ("cannot enter context"), so they wait until we return.

    ipykernel 7 starts every shell message (the next cell of "Run All", widget comms, completions) as a
    task in one persistent context, the very context the running cell is in. Running such a step would
    raise inside the loop and lose the message; the kernel would hang.
    """

    def __init__(self, items: collections.deque) -> None:  # type: ignore[type-arg]
        super().__init__(items)
        self.held: list[Any] = []

    def popleft(self) -> Any:
        handle = super().popleft()
        context = getattr(handle, "_context", None)
        if context is not None and not handle._cancelled and _is_entered(context):
            self.held.append(handle)
            return _SKIP
        return handle


def _is_entered(context: contextvars.Context) -> bool:
    try:
        context.run(_noop)
    except RuntimeError:  # "cannot enter context: ... is already entered"
        return True
    return False


class _Skip:
    """Stands in for a held-back handle: the loop skips cancelled handles."""

    _cancelled = True


_SKIP = _Skip()


@contextlib.contextmanager
def _holding_back(loop: asyncio.AbstractEventLoop) -> Any:
    ready = getattr(loop, "_ready", None)
    if not isinstance(ready, collections.deque):
        yield
        return
    queue = _HoldBack(ready)
    loop._ready = queue  # type: ignore[attr-defined]
    try:
        yield
    finally:
        # back into the loop's own deque (an outer drive may hold it); held handles were ready first
        pending = [*queue.held, *queue]
        ready.clear()
        ready.extend(pending)
        loop._ready = ready  # type: ignore[attr-defined]


def _drive_nested(loop: asyncio.AbstractEventLoop, factory: Callable[[], Awaitable[T]]) -> T:
    with _holding_back(loop):
        return _drive(loop, factory)


def _drive(loop: asyncio.AbstractEventLoop, factory: Callable[[], Awaitable[T]]) -> T:
    task = loop.create_task(_as_coroutine(factory))
    outer = asyncio.current_task(loop)
    if outer is not None:
        asyncio.tasks._leave_task(loop, outer)  # let the loop step other tasks while we wait
    try:
        try:
            while not task.done():
                loop._run_once()  # type: ignore[attr-defined]
                if outer is not None and getattr(outer, "_must_cancel", False):
                    # the calling task was cancelled (asyncio.run turns Ctrl-C into this)
                    raise asyncio.CancelledError()
        except BaseException:
            task.cancel()
            _unwind(loop, task)
            raise
    finally:
        if outer is not None:
            asyncio.tasks._enter_task(loop, outer)
    return task.result()


def _unwind(loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]) -> None:
    """Give a cancelled task a bounded chance to run its cleanup on the loop."""
    deadline = time.monotonic() + _UNWIND_SECONDS
    tick: asyncio.TimerHandle | None = None
    while not task.done() and time.monotonic() < deadline:
        if tick is None or tick.when() <= loop.time():
            tick = loop.call_later(0.05, _noop)  # select() wakes up to check the deadline
        with contextlib.suppress(BaseException):  # e.g. the interrupt re-raised by the task it hit
            loop._run_once()  # type: ignore[attr-defined]
    if tick is not None:
        tick.cancel()
    if task.done() and not task.cancelled():
        task.exception()  # mark retrieved: the interrupt is what the caller sees


def _noop() -> None:
    pass


class _HelperThread(threading.Thread):
    """Runs one coroutine on a private loop; the waiting thread can cancel it."""

    def __init__(self, factory: Callable[[], Awaitable[Any]]) -> None:
        super().__init__(name="langfuse-nb-run-sync", daemon=True)
        self._factory = factory
        self.loop: asyncio.AbstractEventLoop | None = None
        self.task: asyncio.Task[Any] | None = None
        self.ready = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = asyncio.run(self._main())
        except BaseException as exc:  # handed to the waiting thread
            self.error = exc

    async def _main(self) -> Any:
        self.loop = asyncio.get_running_loop()
        self.task = asyncio.current_task()
        self.ready.set()
        return await self._factory()

    def cancel(self) -> None:
        self.ready.wait(1.0)
        if self.loop is not None and self.task is not None:
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self.task.cancel)


def _run_in_helper_thread(factory: Callable[[], Awaitable[T]]) -> T:
    helper = _HelperThread(factory)
    helper.start()
    try:
        while helper.is_alive():
            helper.join(0.1)  # short joins keep Ctrl-C responsive
    except BaseException:
        helper.cancel()
        helper.join(_UNWIND_SECONDS)
        raise
    if helper.error is not None:
        raise helper.error
    return helper.result


async def maybe_await(value: Any) -> Any:
    """Await ``value`` if it is awaitable (sync-or-async user callbacks), else return it."""
    if inspect.isawaitable(value):
        return await value
    return value


def close_if_coroutine(value: Any) -> None:
    """Close an un-awaited coroutine so Python does not warn about it."""
    if isinstance(value, Coroutine):
        value.close()
