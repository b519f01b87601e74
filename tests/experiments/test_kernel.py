"""A real ipykernel: a sync run_experiment in a cell runs on the kernel's loop; interrupts keep results."""

from __future__ import annotations

import sys
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(90)

SETUP = """
import asyncio, httpx
from langfuse_nb import Langfuse
lf = Langfuse(public_key={pk!r}, secret_key={sk!r}, base_url={url!r})
loop = asyncio.get_running_loop()
lock = asyncio.Lock()
async def hold():
    async with lock:
        await asyncio.sleep(0.001)
await asyncio.gather(hold(), hold())            # the lock is now bound to the kernel loop
http = httpx.AsyncClient(base_url={url!r})
assert (await http.get("/api/public/health")).status_code == 200   # pooled connection on this loop

async def task(*, item, **_):
    assert asyncio.get_running_loop() is loop
    async with lock:
        response = await http.get("/api/public/health")
    await asyncio.sleep(item.get("delay", 0))
    return response.status_code
"""

RUN = """
result = lf.run_experiment(name="kernel", data=[{{"input": i, "delay": {delay}}} for i in range({n})],
                           task=task, max_concurrency=2, progress=False,
                           evaluators=[lambda *, output, **_: {{"name": "ok", "value": output == 200}}])
print("RESULT", len(result.item_results), len(result.failed_item_results), result.item_results[0].output)
"""

AFTER_INTERRUPT = """
partial = lf.last_experiment_result
print("PARTIAL", partial.completed, len(partial.item_results))
"""


class Kernel:
    def __init__(self) -> None:
        from jupyter_client.manager import start_new_kernel

        self.manager, self.client = start_new_kernel(kernel_name="python3")
        self._early: list[dict[str, Any]] = []  # iopub messages read ahead by wait_for_output

    def run(self, code: str, timeout: float = 30) -> tuple[dict[str, Any], str]:
        msg_id = self.client.execute(code)
        return self.collect(msg_id, timeout)

    def collect(self, msg_id: str, timeout: float = 30) -> tuple[dict[str, Any], str]:
        reply = self.client.get_shell_msg(timeout=timeout)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.client.get_shell_msg(timeout=timeout)
        out = []
        while True:
            message = self._early.pop(0) if self._early else self.client.get_iopub_msg(timeout=timeout)
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            if message["msg_type"] == "stream":
                out.append(message["content"]["text"])
            if message["msg_type"] == "display_data":
                out.append(" ".join(message["content"]["data"]) + "\n")
            if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                return reply["content"], "".join(out)

    def wait_for_output(self, msg_id: str, text: str, timeout: float = 60) -> None:
        """Read the cell's output until ``text`` was printed (the messages stay unread for collect())."""
        seen = ""
        while text not in seen:
            message = self.client.get_iopub_msg(timeout=timeout)
            self._early.append(message)
            if message["parent_header"].get("msg_id") == msg_id and message["msg_type"] == "stream":
                seen += message["content"]["text"]

    def stop(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def kernel(server: Any) -> Any:
    pytest.importorskip("ipykernel")
    pytest.importorskip("jupyter_client")
    k = Kernel()
    reply, _ = k.run(SETUP.format(pk=server.public_key, sk=server.secret_key, url=server.url))
    assert reply["status"] == "ok", reply
    yield k
    k.stop()


def test_sync_run_experiment_in_a_kernel_cell_uses_the_kernel_loop(kernel: Kernel) -> None:
    reply, out = kernel.run(RUN.format(n=20, delay=0))
    assert reply["status"] == "ok", reply
    assert "RESULT 20 0 200" in out


INTERRUPTIBLE = """
async def slow(*, item, **_):
    if item["input"] == 3:
        print("ITEMS-RUNNING", flush=True)   # the test interrupts when it sees this
    await asyncio.sleep(0.05)
    return item["input"]
lf.run_experiment(name="interrupted", data=[{"input": i} for i in range(400)], task=slow,
                  max_concurrency=2, progress=False)
"""


def test_kernel_interrupt_cancels_pending_items_and_keeps_finished(kernel: Kernel) -> None:
    msg_id = kernel.client.execute(INTERRUPTIBLE)  # ~10 s if not interrupted
    kernel.wait_for_output(msg_id, "ITEMS-RUNNING")  # an event, not a fixed sleep: safe under load
    kernel.manager.interrupt_kernel()
    reply, _ = kernel.collect(msg_id)
    assert reply["status"] == "error" and reply["ename"] == "RunInterrupted", reply
    # one short line, no library traceback: how far it got and where the partial result is
    (line,) = reply["traceback"]
    assert line.startswith("KeyboardInterrupt: experiment 'interrupted' interrupted after ")
    assert "of 400 items" in line and "client.last_experiment_result" in line and "\n" not in line
    reply, out = kernel.run(AFTER_INTERRUPT)
    assert reply["status"] == "ok", reply
    completed, count = out.split("PARTIAL", 1)[1].split()
    assert completed == "False" and 0 < int(count) < 400


def test_progress_bar_is_a_widget_in_the_kernel_and_can_be_switched_off(kernel: Kernel) -> None:
    code = RUN.format(n=12, delay=0)
    _, shown = kernel.run(code.replace("progress=False", "progress=None"))
    assert "application/vnd.jupyter.widget-view+json" in shown
    _, hidden = kernel.run(code)
    assert "widget-view" not in hidden and "RESULT 12 0 200" in hidden


def test_shell_messages_arriving_during_a_sync_run_do_not_wedge_the_kernel(kernel: Kernel) -> None:
    """JupyterLab's "Run All" (and widget comms, completions) send shell messages while a cell runs.

    ipykernel 7 starts every shell message as a task in one persistent context; driving the loop from
    inside the running cell must not run those (the context is entered: "cannot enter context").
    """
    marked = MARKED_TASK + RUN.format(n=40, delay=0.05).replace("task=task", "task=marked")  # about 1 s
    first = kernel.client.execute(marked)
    kernel.wait_for_output(first, "ITEMS-RUNNING")  # the experiment is running: an event, not a sleep
    info = kernel.client.kernel_info()
    second = kernel.client.execute("print('SECOND', 6 * 7)")
    reply, out = kernel.collect(first)
    assert reply["status"] == "ok", reply
    assert "RESULT 40 0 200" in out and "already entered" not in out
    reply, out = kernel.collect(second)
    assert reply["status"] == "ok" and "SECOND 42" in out
    assert info


MARKED_TASK = """
async def marked(*, item, **kwargs):
    if item["input"] == 1:
        print("ITEMS-RUNNING", flush=True)  # the test sends its messages when it sees this
    return await task(item=item, **kwargs)
"""

AWAITED = """
import os
os.environ.update(LANGFUSE_PUBLIC_KEY={pk!r}, LANGFUSE_SECRET_KEY={sk!r}, LANGFUSE_BASE_URL={url!r})
get_ipython().run_line_magic("load_ext", "langfuse_nb")
"""


def test_interrupting_an_awaited_run_is_one_line_too(kernel: Kernel, server: Any) -> None:
    """``await run_experiment_async(...)``: the kernel cancels the cell's task; with %load_ext the
    CancelledError that carries the partial result is one line, other cancellations keep IPython's view
    (this kernel imported trio through httpx, which has its own handler: both must keep working)."""
    reply, _ = kernel.run(AWAITED.format(pk=server.public_key, sk=server.secret_key, url=server.url))
    assert reply["status"] == "ok", reply
    code = INTERRUPTIBLE.replace("lf.run_experiment(", "await lf.run_experiment_async(")
    msg_id = kernel.client.execute(code)
    kernel.wait_for_output(msg_id, "ITEMS-RUNNING")
    kernel.manager.interrupt_kernel()
    reply, _ = kernel.collect(msg_id)
    assert reply["status"] == "error", reply
    assert len(reply["traceback"]) == 1, [reply["ename"], reply["traceback"][:2], reply["traceback"][-1]]
    (line,) = reply["traceback"]
    assert "experiment 'interrupted' interrupted after " in line and "of 400 items" in line
    reply, _ = kernel.run("import asyncio\nraise asyncio.CancelledError('plain')")
    assert reply["ename"] == "CancelledError" and len(reply["traceback"]) > 1  # the usual traceback
    if sys.version_info >= (3, 11):  # ExceptionGroup is a builtin from 3.11 on
        reply, out = kernel.run("raise ExceptionGroup('two', [ValueError('a'), KeyError('b')])")
        assert reply["ename"] == "ExceptionGroup"  # trio's handler (it prints the group) still answers
        assert "ValueError" in out + "".join(reply["traceback"])
