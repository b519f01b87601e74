"""The magics through a real in-process IPython shell against the session test server."""

from __future__ import annotations

import traceback

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from langfuse_nb.notebook import extension
from langfuse_nb.notebook.args import OBSERVATION_TYPES
from langfuse_nb.notebook.magics import kernel_session_id
from langfuse_nb.notebook.store import STORE

OBSERVE_CELL = """%%langfuse_trace name={name} tags=a,b user_id=u-1 metadata='{{"k": 1}}'
from langfuse_nb import observe

@observe(name="double")
def double(x):
    return x * 2

print("hello from the cell")
double(21)
"""


def magics(ip):
    return extension._LOADED[id(ip)]


def server_trace(trace_id: str):
    from langfuse_nb import get_client

    return get_client().api.trace.get(trace_id)


def html_outputs(cap) -> list[str]:
    return [out.data["text/html"] for out in cap.outputs if "text/html" in out.data]


def test_load_ext_prints_one_line_and_registers(ip, server_env, capsys) -> None:
    ip.run_line_magic("load_ext", "langfuse_nb")
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [
        f"langfuse_nb: traces go to {server_env.url} (from LANGFUSE_* env vars); view them with "
        "%langfuse_traces or %langfuse_trace_view"
    ]
    table = ip.magics_manager.magics
    assert {
        "langfuse_trace",
        "langfuse_status",
        "langfuse_trace_view",
        "langfuse_traces",
        "langfuse_prompt",
    } <= set(table["line"])
    assert "langfuse_trace" in table["cell"]


def test_traced_cell_end_to_end(loaded) -> None:
    with capture_output() as cap:
        result = loaded.run_cell(OBSERVE_CELL.format(name="e2e"), cell_id="cell-abc")
    assert result.result == 42  # displayed as usual
    assert "hello from the cell" in cap.stdout
    trace = server_trace(magics(loaded).last_trace_id)
    assert (trace.name, trace.user_id, trace.session_id) == ("e2e", "u-1", kernel_session_id())
    assert sorted(trace.tags) == ["a", "b"]
    by_name = {o.name: o for o in trace.observations}
    root, child = by_name["e2e"], by_name["double"]
    assert child.parent_observation_id == root.id
    assert root.input.startswith("from langfuse_nb import observe") and "%%langfuse_trace" not in root.input
    assert root.output["result"] == 42 and "hello from the cell" in root.output["stdout"]
    assert root.metadata["k"] == 1 and root.metadata["execution_count"] == loaded.execution_count
    assert root.metadata["cell_id"] == "cell-abc"
    (view,) = html_outputs(cap)
    assert "e2e" in view and "double" in view and "lfnb-trace" not in view and "<details" in view


def test_exception_marks_error_and_keeps_user_traceback(loaded) -> None:
    with capture_output(), pytest.raises(ZeroDivisionError) as info:
        loaded.run_cell("%%langfuse_trace name=boom\nx = 1\n1 / 0\n")
    frames = traceback.extract_tb(info.value.__traceback__)
    assert frames[-1].line == "1 / 0" and not any("langfuse_nb" in f.filename for f in frames)
    trace = server_trace(magics(loaded).last_trace_id)
    (root,) = trace.observations
    assert str(getattr(root.level, "value", root.level)) == "ERROR"
    assert root.status_message == "ZeroDivisionError: division by zero"


@pytest.mark.parametrize(
    ("line", "problem"),
    [("nme=x", "unknown argument 'nme'"), ("as_type=banana", "as_type"), ("metadata={bad", "not valid JSON")],
)
def test_bad_arguments_raise_usage_error_and_do_not_run(loaded, line: str, problem: str) -> None:
    with pytest.raises(UsageError, match=problem):
        loaded.run_cell(f"%%langfuse_trace {line}\nran = True\n")
    assert "ran" not in loaded.user_ns


def test_all_ten_types_and_display_none(loaded) -> None:
    for as_type in OBSERVATION_TYPES:
        with capture_output() as cap:
            loaded.run_cell(f"%%langfuse_trace name=t-{as_type} as_type={as_type} display=none\n1\n")
        assert not html_outputs(cap)
        (record,) = STORE.records(magics(loaded).last_trace_id)
        assert (record.type, record.name) == (as_type, f"t-{as_type}")


def test_config_traitlets(loaded) -> None:
    loaded.run_line_magic("config", 'LangfuseMagics.display = "link"')
    loaded.run_line_magic("config", "LangfuseMagics.capture_output = False")
    loaded.run_line_magic("config", "LangfuseMagics.session_grouping = False")
    with capture_output() as cap:
        loaded.run_cell("%%langfuse_trace name=configured\nprint('x')\n7\n")
    (line,) = html_outputs(cap)
    assert "configured · ok · 1 observation ·" in line and "<details" not in line
    (record,) = STORE.records(magics(loaded).last_trace_id)
    assert record.output in (7, "7")  # no stdout dict when capture is off
    assert server_trace(magics(loaded).last_trace_id).session_id is None
    assert magics(loaded).display == "link"


def test_session_override_and_notebook_path(loaded) -> None:
    loaded.user_ns["__session__"] = "/work/demo.ipynb"
    with capture_output():
        loaded.run_cell("%%langfuse_trace name=sess session_id=my-session display=none\n1\n")
    trace = server_trace(magics(loaded).last_trace_id)
    assert trace.session_id == "my-session"
    assert trace.observations[0].metadata["notebook"] == "/work/demo.ipynb"


def test_trace_view_from_recorder_and_from_server(loaded) -> None:
    with capture_output():
        loaded.run_cell("%%langfuse_trace name=viewed display=none\n'v'\n")
    trace_id = magics(loaded).last_trace_id
    with capture_output() as cap:
        loaded.run_line_magic("langfuse_trace_view", "")
    assert "viewed" in html_outputs(cap)[0] and "this kernel" in html_outputs(cap)[0]
    STORE.clear()
    with capture_output() as cap:
        loaded.run_line_magic("langfuse_trace_view", trace_id)
    assert "viewed" in html_outputs(cap)[0] and "from the server" in html_outputs(cap)[0]
    with pytest.raises(UsageError, match=f"^no trace with id {'0' * 32} on this server"):
        loaded.run_line_magic("langfuse_trace_view", "0" * 32)


def test_observation_objects_render_inline(loaded) -> None:
    loaded.run_cell("from langfuse_nb import get_client\nspan = get_client().start_span(name='manual')")
    open_html = loaded.display_formatter.format(loaded.user_ns["span"])[0]["text/html"]
    assert "has not ended yet" in open_html
    loaded.run_cell("span.update(output='done'); span.end()")
    html = loaded.display_formatter.format(loaded.user_ns["span"])[0]["text/html"]
    assert "manual" in html and "lfnb-hl" in html and "done" in html


def test_traces_magic_lists_and_opens(loaded) -> None:
    with capture_output():
        loaded.run_cell("%%langfuse_trace name=listed-trace display=none\n1\n")
    with capture_output() as cap:
        assert loaded.run_line_magic("langfuse_traces", "name=listed-trace limit=5") is None
    widget = magics(loaded).last_widget
    assert "listed-trace" in widget.table.value
    (shown,) = cap.outputs  # the live widget and its static copy in one display bundle
    assert "application/vnd.jupyter.widget-view+json" in shown.data
    assert "listed-trace" in shown.data["text/html"]
    widget.show(widget.pick.options[0][1])
    assert "listed-trace" in widget.view.value
    with pytest.raises(UsageError, match="positive integer"):
        loaded.run_line_magic("langfuse_traces", "limit=0")


def test_status(loaded, capsys) -> None:
    loaded.run_line_magic("langfuse_status", "")
    out = capsys.readouterr().out
    assert "endpoint:" in out and "auth:         ok" in out and "exports:" in out


def test_reload_rerun_setup_and_unload(loaded) -> None:
    loaded.run_line_magic("reload_ext", "langfuse_nb")
    loaded.run_line_magic("reload_ext", "langfuse_nb")
    loaded.run_cell("from langfuse_nb import Langfuse\nlangfuse = Langfuse()")
    loaded.run_cell("langfuse = Langfuse()")  # re-running a setup cell
    assert loaded.input_transformers_cleanup.count(extension.transform_traced_cell) == 1
    with capture_output():
        loaded.run_cell("%%langfuse_trace name=after-reload display=none\n1\n")
    assert [r.name for r in STORE.records(magics(loaded).last_trace_id)] == ["after-reload"]
    loaded.run_line_magic("unload_ext", "langfuse_nb")
    assert "langfuse_trace" not in loaded.magics_manager.magics["cell"]
    assert extension.transform_traced_cell not in loaded.input_transformers_cleanup
    with pytest.raises(UsageError):
        loaded.run_cell("%%langfuse_trace name=gone\n1\n")


def test_direct_cell_magic_call_runs_nested(loaded) -> None:
    with capture_output():
        loaded.run_cell_magic("langfuse_trace", "name=direct display=none", "z = 5\nz")
    assert loaded.user_ns["z"] == 5
    assert [r.name for r in STORE.records(magics(loaded).last_trace_id)] == ["direct"]


def test_help_documents_every_key(loaded) -> None:
    doc = loaded.find_cell_magic("langfuse_trace").__doc__
    assert all(key in doc for key in ("name", "as_type", "capture_output", "display", "metadata"))


def test_wraps_another_cell_magic(loaded) -> None:
    with capture_output() as cap:
        result = loaded.run_cell("%%langfuse_trace name=timed display=none\n%%time\ny = 6 * 7\ny\n")
    assert result.result == 42 and "Wall time" in cap.stdout
    (record,) = STORE.records(magics(loaded).last_trace_id)
    assert record.input.startswith("%%time") and record.output["result"] == 42


def test_top_level_await_in_traced_cell_detaches_quietly(loaded, caplog) -> None:
    """An async cell runs in a copied context; ending its observation must not log a detach failure."""
    with capture_output():
        result = loaded.run_cell(
            "%%langfuse_trace name=awaited display=none\nimport asyncio\nawait asyncio.sleep(0)\n'done'\n"
        )
    assert result.result == "done"
    (record,) = STORE.records(magics(loaded).last_trace_id)
    assert record.name == "awaited" and "done" in str(record.output)
    assert not [r for r in caplog.records if "detach" in r.getMessage().lower()]
    with capture_output():
        loaded.run_cell("%%langfuse_trace name=next display=none\n2\n")
    (record,) = STORE.records(magics(loaded).last_trace_id)
    assert record.parent_id is None  # the async cell left nothing current behind


def _isolate_connect_state(monkeypatch) -> None:
    """connect() turns tracing off through the environment when it fails: undo that after the test."""
    from langfuse_nb.notebook import connect

    monkeypatch.setenv("LANGFUSE_TRACING_ENABLED", "true")
    monkeypatch.setattr(connect, "_OWN_URL", {})


def test_reload_after_unreachable_endpoint_traces_again(ip, server_env, monkeypatch) -> None:
    """The one-line message says 'fix LANGFUSE_BASE_URL, then %reload_ext': that must be enough."""
    good_url = server_env.url
    _isolate_connect_state(monkeypatch)
    monkeypatch.setenv("LANGFUSE_BASE_URL", "http://127.0.0.1:1")
    with capture_output() as cap:
        ip.run_line_magic("load_ext", "langfuse_nb")
        ip.run_cell("from langfuse_nb import Langfuse\nlangfuse = Langfuse()")  # the user's setup cell
    assert "cannot reach" in cap.stdout
    monkeypatch.setenv("LANGFUSE_BASE_URL", good_url)
    with capture_output() as cap:
        ip.run_line_magic("reload_ext", "langfuse_nb")
        ip.run_cell("%%langfuse_trace name=fixed display=none\n1\n")
    assert "traces go to" in cap.stdout
    trace_id = magics(ip).last_trace_id
    assert trace_id and [r.name for r in STORE.records(trace_id)] == ["fixed"]
    assert server_trace(trace_id).name == "fixed"


def test_status_when_unreachable_says_so_without_building_a_client(ip, monkeypatch, capsys, caplog) -> None:
    from langfuse_nb.server import runner

    for key in ("LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY", "LANGFUSE_BASE_URL"):
        monkeypatch.delenv(key, raising=False)

    def cannot_start(**_kw: object) -> None:
        raise runner.ServerStartError("port 3939 is taken")

    monkeypatch.setattr(runner, "ensure_server", cannot_start)
    _isolate_connect_state(monkeypatch)
    ip.run_line_magic("load_ext", "langfuse_nb")
    ip.run_line_magic("langfuse_status", "")
    out = capsys.readouterr().out
    assert "endpoint:     - (unavailable)" in out and "tracing:      off" in out
    assert "auth:         not checked (no reachable endpoint)" in out
    assert not [r for r in caplog.records if "initialized without" in r.getMessage()]
