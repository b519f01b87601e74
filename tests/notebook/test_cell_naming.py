"""What people type after %%langfuse_trace, and default names that match the front end's ``In [n]``."""

from __future__ import annotations

import nbformat
import pytest
from IPython.utils.capture import capture_output
from nbclient import NotebookClient

from langfuse_nb.notebook import extension
from langfuse_nb.notebook.store import STORE


def _root(ip):
    trace_id = extension._LOADED[id(ip)].last_trace_id
    return next(r for r in STORE.records(trace_id) if r.parent_id is None)


def test_unquoted_json_metadata_runs_the_cell(loaded) -> None:
    loaded.user_ns["step"] = 99  # a {variable} expansion would corrupt the JSON
    with capture_output():
        loaded.run_cell(
            '%%langfuse_trace name=x metadata={"notebook": "quick start", "step": 2} tags=a,b display=none\n'
            "ran = 1\n"
        )
    assert loaded.user_ns["ran"] == 1
    root = _root(loaded)
    assert root.name == "x" and root.metadata["notebook"] == "quick start" and root.metadata["step"] == 2


class CountsFirst:
    """Newer IPython 9 releases bump ``execution_count`` before the cell runs; mimic that on IPython 8."""

    def __init__(self, ip) -> None:
        self.ip = ip

    def pre(self, info) -> None:
        if info.store_history:
            self.ip.execution_count += 1

    def post(self, result) -> None:
        if result.info.store_history:
            self.ip.execution_count -= 1


@pytest.mark.parametrize("counts_first", [False, True])
def test_default_name_is_the_number_the_front_end_shows(loaded, counts_first: bool) -> None:
    if counts_first:
        hooks = CountsFirst(loaded)
        loaded.events.register("pre_run_cell", hooks.pre)
        loaded.events.register("post_run_cell", hooks.post)
    shown = loaded.execution_count  # IPython 8: the number of the cell about to run
    with capture_output():
        result = loaded.run_cell("%%langfuse_trace display=none\n1\n", store_history=True)
    assert result.execution_count == shown
    root = _root(loaded)
    assert root.name == f"cell {shown}" and root.metadata["execution_count"] == shown


def test_default_names_in_a_real_kernel(server_env) -> None:
    """nbclient records the count the kernel reported for each cell; the trace names must match it."""
    cells = ["%load_ext langfuse_nb", "x = 1", "%%langfuse_trace display=none\nx", "%%langfuse_trace\nx + 1"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "from langfuse_nb import get_client\nget_client().flush()\n"
            "from langfuse_nb.notebook.store import STORE\n"
            "print([[r.name, r.metadata.get('execution_count')] for t in STORE.trace_ids() "
            "for r in STORE.records(t)])"
        )
    )
    NotebookClient(nb, timeout=60, startup_timeout=60, kernel_name="python3").execute()
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    for index in (2, 3):
        count = nb.cells[index].execution_count
        assert f"['cell {count}', {count}]" in printed, printed


def test_inline_view_shows_the_cost_the_server_computed(loaded) -> None:
    """Issue 13 item 5: a generation that recorded usage but no cost shows the server's price-table cost."""
    cell = (
        "%%langfuse_trace name=priced\n"
        "from langfuse_nb import get_client\n"
        "lf = get_client()\n"
        "with lf.start_as_current_observation(name='llm', as_type='generation', model='gpt-4o-mini') as g:\n"
        "    g.update(usage_details={'input': 1000, 'output': 100})\n"
    )
    with capture_output() as cap:
        loaded.run_cell(cell)
    (html,) = [o.data["text/html"] for o in cap.outputs if "text/html" in o.data]
    trace = extension._LOADED[id(loaded)].last_trace_id
    from langfuse_nb import get_client

    generation = next(o for o in get_client().api.trace.get(trace).observations if o.name == "llm")
    server_cost = generation.calculated_total_cost
    assert server_cost and server_cost == pytest.approx(1000 * 1.5e-07 + 100 * 6e-07)
    assert "gpt-4o-mini · input 1000 / output 100" in html
    assert f"${server_cost:.6f}".rstrip("0") in html  # the same number, per generation and for the trace
