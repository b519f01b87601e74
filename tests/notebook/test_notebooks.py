"""Every notebook in notebooks/ executed by nbclient in a real kernel against its own local server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from langfuse_nb.server.runner import ServerHandle, start_in_thread

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def nb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """A server of their own (the notebooks use fixed prompt/dataset names) and env vars for the kernels."""
    handle = start_in_thread(port=0, db_path=tmp_path_factory.mktemp("nb-server") / "lf.db")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LANGFUSE_PUBLIC_KEY", handle.public_key)
        mp.setenv("LANGFUSE_SECRET_KEY", handle.secret_key)
        mp.setenv("LANGFUSE_BASE_URL", handle.url)
        mp.setenv("LANGFUSE_NB_PROGRESS", "0")
        mp.delenv("LANGFUSE_TRACING_ENABLED", raising=False)
        yield handle
    handle.stop()


@pytest.fixture(scope="module")
def api(nb_server: ServerHandle):
    from langfuse_nb.api import LangfuseAPI

    return LangfuseAPI(base_url=nb_server.url, username=nb_server.public_key, password=nb_server.secret_key)


def run(name: str) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    NotebookClient(
        nb,
        timeout=60,
        startup_timeout=60,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    ).execute()
    return nb


def code_cell(nb: nbformat.NotebookNode, starts: str) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith(starts))


def text(cell: nbformat.NotebookNode) -> str:
    parts = [o.get("text", "") for o in cell.outputs if o.output_type == "stream"]
    parts += [o.data.get("text/plain", "") for o in cell.outputs if "data" in o]
    return "".join(parts)


def html(cell: nbformat.NotebookNode) -> str:
    return "".join(o.data.get("text/html", "") for o in cell.outputs if "data" in o)


def test_quickstart(nb_server: ServerHandle, api) -> None:
    nb = run("quickstart")
    assert text(code_cell(nb, "%load_ext")).startswith(f"langfuse_nb: traces go to {nb_server.url}")
    hello = code_cell(nb, "%%langfuse_trace name=hello")
    assert "Hello from a traced cell" in text(hello) and "42" in text(hello)
    assert "hello" in html(hello) and "<details" in html(hello)
    agent = html(code_cell(nb, "%%langfuse_trace name=answer-question"))
    for part in ("AGENT", "RETRIEVER", "GENERATION", "fake-llm", "fake-model-1 · input 11 / output 1"):
        assert part in agent
    assert "manual-span" in html(code_cell(nb, "span = "))
    assert "helpfulness" in html(code_cell(nb, "from langfuse_nb.notebook import scores_table"))
    assert WIDGET_VIEW in code_cell(nb, "%langfuse_traces").outputs[0].data
    assert "auth:         ok" in text(code_cell(nb, "%langfuse_status"))
    traces = {t.name: t for t in api.trace.list(limit=50).data}
    assert {"hello", "answer-question", "manual-span"} <= set(traces)
    hello_root = api.trace.get(traces["hello"].id).observations[0]
    assert hello_root.metadata["notebook"] == "quickstart" and hello_root.metadata["step"] == 1
    assert hello_root.metadata["execution_count"] == hello.execution_count  # "cell N" as shown
    scored = api.trace.get(traces["answer-question"].id)
    assert {s.name for s in scored.scores} == {"correct", "helpfulness"}
    assert scored.session_id and scored.session_id == traces["hello"].session_id  # one session per kernel


def test_prompts(api) -> None:
    nb = run("prompts")
    assert "1 ['name', 'place']" in text(code_cell(nb, "greeting = "))
    assert "Saved version 2 of 'nb-greeting'." in text(code_cell(nb, "from langfuse_nb.widgets"))
    assert WIDGET_VIEW in code_cell(nb, "%langfuse_prompt nb-greeting").outputs[0].data
    assert "'Hi Ada! Welcome to the notebook.'" in text(code_cell(nb, "browser.promote"))
    production = api.prompts.get("nb-greeting", label="production")
    assert production.version == 2 and production.commit_message == "friendlier"
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert any(m["model_name"] == "TextareaModel" for m in state.values())


def test_experiments(api) -> None:
    nb = run("experiments")
    comparison = code_cell(nb, "from langfuse_nb.notebook import compare_experiments")
    assert "mean_deltas={'exact_match': -0.666" in text(comparison)
    assert "exact_match Δ" in html(comparison) and "lfnb-neg" in html(comparison)
    assert "<table" in html(code_cell(nb, "comparison.to_dataframe()"))
    assert "always-four" in text(code_cell(nb, "run_b = "))
    assert text(code_cell(nb, 'langfuse.create_dataset(name="nb-calculator")')) == "3"
    assert "<table" in html(code_cell(nb, "dataset_run = "))
    again = run("experiments")  # "Run All" a second time on the same server: no duplicate items
    assert text(code_cell(again, 'langfuse.create_dataset(name="nb-calculator")')) == "3"
    # as the notebook says: each run of it is a new dataset run (own name), the old one is untouched
    runs = api.datasets.get_runs("nb-calculator").data
    assert len(runs) == 2 and len({r.name for r in runs}) == 2
    assert all(len(api.datasets.get_run("nb-calculator", r.name).dataset_run_items) == 3 for r in runs)


def test_batch_evaluation(api) -> None:
    nb = run("batch_evaluation")
    assert "Scores created: 3" in text(code_cell(nb, "import json"))
    scores = [s for s in api.score_v_2.get(limit=100).data if s.name == "helpful"]
    assert sorted(s.value for s in scores) == [0.0, 1.0, 1.0]


def test_notebooks_are_committed_without_outputs() -> None:
    for path in NOTEBOOKS.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), path.name
    assert os.path.exists(NOTEBOOKS / "build_notebooks.py")


def test_demo_main_job_on_the_embedded_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """``python -m langfuse_nb.notebook.demo`` without keys: starts a local server, runs the quickstart."""
    import socket

    from langfuse_nb.notebook import connect, demo

    for key in (
        "LANGFUSE_PUBLIC_KEY",
        "LANGFUSE_SECRET_KEY",
        "LANGFUSE_BASE_URL",
        "LANGFUSE_TRACING_ENABLED",
    ):
        monkeypatch.setenv(key, "x")  # recorded, so the env is restored after the demo set its own values
        monkeypatch.delenv(key)
    monkeypatch.setattr(connect, "_OWN_URL", {})
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = demo.run_demo(output=tmp_path / "out.ipynb", port=port, db_path=tmp_path / "lf.db")
    try:
        assert result.connection.mode == "local" and result.connection.server.started
        assert {t["name"] for t in result.traces} >= {"hello", "answer-question", "manual-span"}
        assert (tmp_path / "out.ipynb").exists()
        text = demo.report(result)
        assert f"traces at http://127.0.0.1:{port}" in text and "answer-question" in text
    finally:
        result.connection.server.stop()
    assert "started the local server" in capsys.readouterr().out


def test_binder_installs_the_repo() -> None:
    binder = NOTEBOOKS.parent / "binder"
    assert os.access(binder / "postBuild", os.X_OK)
    assert "pip install --no-cache-dir -e ." in (binder / "postBuild").read_text()
    assert "jupyterlab" in (binder / "requirements.txt").read_text()


def test_traced_cells_in_a_kernel_await_and_errors(api) -> None:
    """ipykernel: top-level await works in a traced cell; an error stops the run, user's traceback intact."""
    from nbclient.exceptions import CellExecutionError

    cells = [
        "%load_ext langfuse_nb",
        "%%langfuse_trace name=k-await display=none\nimport asyncio\nawait asyncio.sleep(0)\n'awaited'",
        "%%langfuse_trace name=k-boom\nx = 1\n1 / 0",
        "print('never runs')",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = NotebookClient(nb, timeout=60, startup_timeout=60, kernel_name="python3")
    with pytest.raises(CellExecutionError, match="ZeroDivisionError"):
        client.execute()
    assert "'awaited'" in text(nb.cells[1])
    (error,) = [o for o in nb.cells[2].outputs if o.output_type == "error"]
    assert error.ename == "ZeroDivisionError" and not any("langfuse_nb" in line for line in error.traceback)
    assert nb.cells[3].outputs == []
    traces = {t.name: t for t in api.trace.list(limit=100).data}
    boom = api.trace.get(traces["k-boom"].id).observations[0]
    assert str(getattr(boom.level, "value", boom.level)) == "ERROR"
    assert api.trace.get(traces["k-await"].id).observations[0].output == "awaited"
