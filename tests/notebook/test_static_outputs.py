"""Saved notebooks show what the widgets showed: executed by nbclient, saved, converted to HTML."""

from __future__ import annotations

import uuid
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _bundle(cell: nbformat.NotebookNode) -> dict:
    (output,) = [o for o in cell.outputs if o.output_type == "display_data"]
    return output.data


@pytest.mark.timeout(120)
def test_widget_outputs_survive_saving_and_nbconvert(server_env, tmp_path: Path) -> None:
    name = f"static-{uuid.uuid4().hex[:6]}"
    cells = [
        "%load_ext langfuse_nb",
        f"%%langfuse_trace name={name}-trace display=none\n21 * 2",
        "from langfuse_nb import get_client\n"
        f"get_client().create_prompt(name={name!r}, prompt='Static {{{{thing}}}} v1',"
        " labels=['production'])\n"
        "get_client().flush()",
        f"%langfuse_traces name={name}-trace",
        f"%langfuse_prompt {name}",
        # a change after display (a new version saved from the form) reaches the saved copy too
        "w = get_ipython().find_magic('langfuse_prompt').__self__.last_widget\n"
        "w.text.value = 'Static {{thing}} v2 from the form'\nw.save.click()\nprint(w.message)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    # as JupyterLab saves by default: outputs without the widget state
    NotebookClient(
        nb, timeout=60, startup_timeout=60, kernel_name="python3", store_widget_state=False
    ).execute()
    assert "Saved version 2" in "".join(o.get("text", "") for o in nb.cells[5].outputs)
    traces, prompt = _bundle(nb.cells[3]), _bundle(nb.cells[4])
    assert WIDGET_VIEW in traces and WIDGET_VIEW in prompt  # the live widget still renders in a front end
    assert f"{name}-trace" in traces["text/html"]
    assert "v2 from the form" in prompt["text/html"] and ">v2<" in prompt["text/html"]
    path = tmp_path / "saved.ipynb"
    nbformat.write(nb, path)
    html, _ = HTMLExporter().from_notebook_node(nbformat.read(path, as_version=4))
    assert f"{name}-trace" in html and "Static {{thing}} v2 from the form" in html
    assert "TraceList(traces=" not in html  # the old useless text/plain fallback
