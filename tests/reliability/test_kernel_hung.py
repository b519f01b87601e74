"""A real Jupyter kernel whose server stops answering: cells stay bounded, the problem is said once."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient


def test_traced_cells_in_a_real_kernel_against_a_hung_server(stack: Any, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LANGFUSE_PUBLIC_KEY": stack.server.public_key,
        "LANGFUSE_SECRET_KEY": stack.server.secret_key,
        "LANGFUSE_BASE_URL": stack.proxy.url,
        "HOME": str(tmp_path),
        "LANGFUSE_NB_DB": str(tmp_path / "unused.db"),
    }
    cells = [nbformat.v4.new_code_cell("%load_ext langfuse_nb")]
    cells += [
        nbformat.v4.new_code_cell(f"%%langfuse_trace name=k{i} display=link\n{i} + 1") for i in range(3)
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    client = NotebookClient(nb, timeout=60, kernel_name="python3")
    costs, stderr = [], []
    try:
        with client.setup_kernel(env=env):
            client.execute_cell(nb.cells[0], 0)
            stack.proxy.hang(seconds=60)  # the server stops answering after the notebook connected
            for index in range(1, 4):
                start = time.monotonic()
                client.execute_cell(nb.cells[index], index)
                costs.append(time.monotonic() - start)
                stderr += [o.get("text", "") for o in nb.cells[index].outputs if o.get("name") == "stderr"]
    finally:
        stack.proxy.clear()
    # one bounded flush (2 s) per cell plus kernel round trips (slow on a loaded machine); the bug this
    # guards against cost 2 s + a 5 s trace-link lookup on every cell
    assert max(costs) < 4.0, costs
    assert sum(text.count("is not answering") for text in stderr) == 1, stderr
    results = [o for cell in nb.cells[1:] for o in cell.outputs if o.get("output_type") == "execute_result"]
    assert [r["data"]["text/plain"] for r in results] == ["1", "2", "3"]


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
