"""Sync calls in a script, a worker thread and inside a running loop (how ipykernel runs cells).

Inside a running loop the tasks and evaluators must run on that same loop, so objects bound to it
(an asyncio.Lock that has had waiters, an httpx.AsyncClient with a pooled connection) work in them.
Interrupts cancel pending items promptly and keep finished ones.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import signal
import threading
import time
import uuid
from typing import Any

import httpx
import pytest

from langfuse_nb.batch_evaluation import EvaluatorInputs
from langfuse_nb.experiment import Evaluation
from langfuse_nb.sdk.aio import run_sync

pytestmark = pytest.mark.timeout(60)


def _data(n: int) -> list[dict[str, Any]]:
    return [{"input": f"item-{uuid.uuid4().hex[:6]}-{i}", "expected_output": i} for i in range(n)]


async def _bound_lock() -> asyncio.Lock:
    """A lock that has had a waiter, so it is bound to the running loop."""
    lock = asyncio.Lock()

    async def hold() -> None:
        async with lock:
            await asyncio.sleep(0.001)

    await asyncio.gather(hold(), hold())
    return lock


def run_cell(kernel_coro: Any) -> Any:
    """Run a coroutine the way ipykernel runs a cell: on a long-lived loop, with no Runner SIGINT hook."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(kernel_coro)
    finally:
        loop.close()


def test_sync_run_experiment_inside_running_loop_uses_that_loop(lf: Any, server: Any) -> None:
    async def kernel() -> Any:
        loop = asyncio.get_running_loop()
        lock = await _bound_lock()
        ticks: list[float] = []

        async def heartbeat() -> None:  # other work on the kernel loop keeps running during the call
            while True:
                ticks.append(time.monotonic())
                await asyncio.sleep(0.005)

        beat = asyncio.create_task(heartbeat())
        async with httpx.AsyncClient(base_url=server.url) as http:
            assert (await http.get("/api/public/health")).status_code == 200  # pool now bound to loop

            async def task(*, item, **_):
                assert asyncio.get_running_loop() is loop
                async with lock:
                    response = await http.get("/api/public/health")
                return response.status_code

            async def evaluator(*, output, **_):
                assert asyncio.get_running_loop() is loop
                async with lock:
                    return Evaluation(name="status", value=float(output == 200))

            def cell() -> Any:  # plain sync cell code, executed inside the running loop
                return lf.run_experiment(
                    name="in-loop",
                    data=_data(12),
                    task=task,
                    evaluators=[evaluator],
                    max_concurrency=4,
                    progress=False,
                )

            started = time.monotonic()
            result = cell()
        beat.cancel()
        during = [t for t in ticks if t >= started]
        return result, len(during)

    result, ticks_during_call = run_cell(kernel())
    assert len(result.item_results) == 12 and not result.failed_item_results
    assert all(r.output == 200 and r.evaluations[0].value == 1.0 for r in result.item_results)
    assert ticks_during_call >= 1


def test_sync_run_experiment_from_worker_thread_and_script(lf: Any) -> None:
    outcome: dict[str, Any] = {}

    def worker() -> None:
        outcome["result"] = lf.run_experiment(
            name="thread", data=_data(3), task=lambda *, item: item["input"]
        )

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(30)
    assert len(outcome["result"].item_results) == 3
    assert len(lf.run_experiment(name="script", data=_data(2), task=lambda *, item: 1).item_results) == 2


def test_async_twin_with_top_level_await(lf: Any) -> None:
    async def main() -> Any:
        lock = await _bound_lock()

        async def task(*, item, **_):
            async with lock:
                await asyncio.sleep(0)
            return item["expected_output"]

        return await lf.run_experiment_async(name="await", data=_data(5), task=task, progress=False)

    result = asyncio.run(main())
    assert sorted(r.output for r in result.item_results) == [0, 1, 2, 3, 4]


def test_keyboard_interrupt_cancels_pending_and_keeps_finished(lf: Any) -> None:
    some_done = threading.Event()  # events, not sleeps: the test must hold on a loaded machine
    finished: list[int] = []

    async def kernel() -> Any:
        async def slow(*, item, **_):
            await asyncio.sleep(0.1)
            finished.append(1)
            if len(finished) == 4:
                some_done.set()
            return "done"

        def interrupt() -> None:
            some_done.wait(60)
            os.kill(os.getpid(), signal.SIGINT)

        threading.Thread(target=interrupt, daemon=True).start()
        try:
            lf.run_experiment(
                name="interrupted", data=_data(80), task=slow, max_concurrency=2, progress=False
            )
        except KeyboardInterrupt as exc:
            await asyncio.sleep(0)  # the kernel loop is still usable afterwards
            return exc
        raise AssertionError("no interrupt")

    exc = run_cell(kernel())
    partial = exc.partial_result
    assert partial.completed is False and 4 <= len(partial.item_results) < 80  # pending items cancelled
    assert all(r.output == "done" for r in partial.item_results)
    assert lf.last_experiment_result is partial
    assert "Interrupted" in partial.format()


def test_task_cancellation_keeps_partial_result(lf: Any) -> None:
    async def main() -> Any:
        async def slow(*, item, **_):
            await asyncio.sleep(0.05)
            return 1

        running = asyncio.create_task(
            lf.run_experiment_async(
                name="cancelled", data=_data(60), task=slow, max_concurrency=3, progress=False
            )
        )
        await asyncio.sleep(0.3)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        return lf.last_experiment_result

    partial = asyncio.run(main())
    assert partial.completed is False and 0 < len(partial.item_results) < 60


def test_batched_evaluation_inside_running_loop(lf: Any) -> None:
    tag = f"loop-{uuid.uuid4().hex[:8]}"
    for i in range(3):
        with lf.start_as_current_observation(name="loop-trace") as span:
            span.update_trace(tags=[tag], input=f"in{i}", output=f"out{i}")
    lf.flush()

    async def kernel() -> Any:
        loop = asyncio.get_running_loop()
        lock = await _bound_lock()

        async def mapper(*, item, **_):
            assert asyncio.get_running_loop() is loop
            async with lock:
                return EvaluatorInputs(input=item.input, output=item.output)

        def evaluator(*, output, **_):
            return {"name": "nonempty", "value": float(bool(output))}

        filter_ = f'[{{"type": "arrayOptions", "column": "tags", "operator": "any of", "value": ["{tag}"]}}]'
        return lf.run_batched_evaluation(
            scope="traces", mapper=mapper, evaluators=[evaluator], filter=filter_
        )

    result = run_cell(kernel())
    assert result.completed and result.total_items_processed == 3 and result.total_scores_created == 3


def test_run_sync_nested_twice_and_outside_loops() -> None:
    async def add(a: int, b: int) -> int:
        await asyncio.sleep(0)
        return a + b

    async def outer() -> int:
        def inner_sync() -> int:
            return run_sync(lambda: add(1, 2))

        async def middle() -> int:
            return inner_sync() + 10

        return run_sync(middle)

    assert run_cell(outer()) == 13
    assert run_sync(lambda: add(2, 3)) == 5


def test_run_sync_raises_cancelled_when_the_calling_task_is_cancelled() -> None:
    """asyncio.run delivers Ctrl-C by cancelling the main task; the driven work stops too."""
    stopped: list[str] = []

    async def endless() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            stopped.append("inner")
            raise

    async def main() -> None:
        me = asyncio.current_task()
        asyncio.get_running_loop().call_later(0.1, me.cancel)
        run_sync(endless)

    with pytest.raises(asyncio.CancelledError):
        run_cell(main())
    assert stopped == ["inner"]


def test_run_sync_falls_back_to_a_helper_thread_on_loops_it_cannot_drive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from langfuse_nb.sdk import aio

    monkeypatch.setattr(aio, "can_drive", lambda loop: False)

    async def where() -> int:
        await asyncio.sleep(0)
        return threading.get_ident()

    async def main() -> tuple[int, int]:
        return threading.get_ident(), run_sync(where)

    caller, worker = run_cell(main())
    assert caller != worker


def test_interrupt_inside_a_sync_task_stops_the_remaining_items(lf: Any) -> None:
    calls: list[int] = []

    def blocking(*, item, **_):
        calls.append(1)
        time.sleep(0.02)  # the interrupt usually lands in here, inside the worker task's step
        return "ok"

    def interrupt_after_some_calls() -> None:
        while len(calls) < 5:  # an event (5 items ran), not a fixed delay
            time.sleep(0.005)
        os.kill(os.getpid(), signal.SIGINT)

    async def kernel() -> Any:
        threading.Thread(target=interrupt_after_some_calls, daemon=True).start()
        try:
            lf.run_experiment(name="sync-interrupt", data=_data(200), task=blocking, progress=False)
        except KeyboardInterrupt as exc:
            seen = len(calls)
            await asyncio.sleep(0.3)  # the kernel loop runs on: no item may continue in the background
            return exc.partial_result, seen, len(calls)
        raise AssertionError("no interrupt")

    partial, seen, later = run_cell(kernel())
    assert partial.completed is False and 0 < len(partial.item_results) < 200
    assert later == seen


def test_run_sync_holds_back_tasks_of_the_entered_context_like_ipykernel_shell_messages() -> None:
    """ipykernel 7 runs every shell message as a task in ONE persistent context (the running cell's).

    A message arriving while run_sync drives the loop (Run All, widget comms) must wait until the cell
    returns instead of failing with "cannot enter context" and being lost; nested drives keep them too.
    """
    errors: list[dict[str, Any]] = []
    order: list[str] = []
    persistent = contextvars.copy_context()  # stands in for ipykernel's shell context
    outcome: dict[str, str] = {}

    async def slow() -> str:
        loop = asyncio.get_running_loop()
        loop.call_soon(order.append, "next cell", context=persistent)  # a message for the busy shell
        await asyncio.sleep(0.01)
        inner = run_sync(lambda: asyncio.sleep(0.01, result="inner"))  # a nested drive
        return f"driven+{inner}"

    def cell() -> None:  # runs inside `persistent`, so nothing else can enter it while we block
        outcome["value"] = run_sync(slow)
        order.append("cell done")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, ctx: errors.append(ctx))
        loop.call_soon(cell, context=persistent)
        await asyncio.sleep(0.1)  # the held message runs once the cell has returned

    run_cell(main())
    assert outcome == {"value": "driven+inner"}
    assert not errors, errors
    assert order == ["cell done", "next cell"]
