"""notebooks/analysis.ipynb executed in a real kernel against a local server of its own."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from langfuse_nb.server.runner import start_in_thread

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "analysis.ipynb"


def _output(cell: nbformat.NotebookNode) -> str:
    parts = [o.get("text", "") for o in cell.outputs if o.output_type == "stream"]
    parts += [o.data.get("text/plain", "") + o.data.get("text/html", "") for o in cell.outputs if "data" in o]
    return "".join(parts)


def test_analysis_notebook_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    handle = start_in_thread(
        port=0, db_path=tmp_path / "lf.db", public_key="pk-lf-anb", secret_key="sk-lf-anb"
    )
    for name, value in {
        "LANGFUSE_PUBLIC_KEY": handle.public_key,
        "LANGFUSE_SECRET_KEY": handle.secret_key,
        "LANGFUSE_BASE_URL": handle.url,
        "LANGFUSE_NB_PROGRESS": "0",
    }.items():
        monkeypatch.setenv(name, value)
    try:
        nb = nbformat.read(NOTEBOOK, as_version=4)
        NotebookClient(
            nb,
            timeout=120,
            startup_timeout=60,
            kernel_name="python3",
            resources={"metadata": {"path": str(NOTEBOOK.parent)}},
        ).execute()
    finally:
        handle.stop()
    code = [c for c in nb.cells if c.cell_type == "code"]
    outputs = [_output(c) for c in code]
    assert any("score_exact" in out for out in outputs)
    assert any("3 of 3 items annotated" in out for out in outputs)
    assert any("Annotation: 0 of 3 items scored" in out for out in outputs)  # the magic's static copy
    push_first, push_again = outputs[-2], outputs[-1]
    assert "traces             3 copied" in push_first and "error" not in push_first
    assert "traces             0 copied, 3 already there" in push_again
    assert "scores             0 copied" in push_again
