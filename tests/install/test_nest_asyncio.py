"""langfuse_nb keeps working in a kernel where another library already called ``nest_asyncio.apply()``.

llama-index and friends patch the kernel's running loop with nest_asyncio. Our own loop driving
(``langfuse_nb.sdk.aio.run_sync``) must not depend on it, nor break under it: a sync ``run_experiment`` with
an async task, a ``%%langfuse_trace`` cell and a prompt widget all run in one real ipykernel after the patch.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from langfuse_nb.server.runner import ServerHandle

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("nest_asyncio", reason="nest-asyncio is in the test extra")

pytestmark = pytest.mark.timeout(180)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

CELLS = [
    "import asyncio, nest_asyncio\nnest_asyncio.apply()\n"
    "print('PATCHED', getattr(asyncio.get_event_loop(), '_nest_patched', False))",
    "%load_ext langfuse_nb",
    "from langfuse_nb import Langfuse\nlangfuse = Langfuse()\nkernel_loop = asyncio.get_running_loop()",
    # a sync call from a cell, with an async task that needs the kernel's own loop
    "async def task(*, item, **_):\n"
    "    assert asyncio.get_running_loop() is kernel_loop\n"
    "    await asyncio.sleep(0.001)\n"
    "    return item['input'] * 2\n"
    "result = langfuse.run_experiment(name='nest', data=[{'input': i} for i in range(6)], task=task,\n"
    "    evaluators=[lambda *, output, **_: {'name': 'even', 'value': output % 2 == 0}], progress=False)\n"
    "print('RESULT', len(result.item_results), len(result.failed_item_results),\n"
    "      sorted(r.output for r in result.item_results))",
    "%%langfuse_trace name=nested-loop-cell display=none\nawait asyncio.sleep(0)\n6 * 7",
    "langfuse.create_prompt(name='nest-prompt', prompt='Hi {{name}}', labels=['production'])",
    "%langfuse_prompt nest-prompt",
    "print('LOOP STILL USABLE', await asyncio.sleep(0, result='yes'))",
]


@pytest.fixture
def kernel_env(fresh_server: ServerHandle, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerHandle]:
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", fresh_server.public_key)
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", fresh_server.secret_key)
    monkeypatch.setenv("LANGFUSE_BASE_URL", fresh_server.url)
    monkeypatch.setenv("LANGFUSE_NB_PROGRESS", "0")
    monkeypatch.delenv("LANGFUSE_TRACING_ENABLED", raising=False)
    yield fresh_server


def _text(cell: object) -> str:
    outputs = getattr(cell, "outputs", [])
    parts = [o.get("text", "") for o in outputs if o.output_type == "stream"]
    return "".join(parts + [o.data.get("text/plain", "") for o in outputs if "data" in o])


def test_notebook_paths_work_after_nest_asyncio_apply(kernel_env: ServerHandle) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    nbclient.NotebookClient(nb, timeout=90, startup_timeout=60, kernel_name="python3").execute()
    patched, _, _, experiment, traced, _, prompt, after = nb.cells
    assert "PATCHED True" in _text(patched)
    assert "RESULT 6 0 [0, 2, 4, 6, 8, 10]" in _text(experiment)
    assert "42" in _text(traced)
    assert any(WIDGET_VIEW in getattr(o, "data", {}) for o in prompt.outputs), prompt.outputs
    assert "LOOP STILL USABLE yes" in _text(after)

    from langfuse_nb.api import LangfuseAPI

    api = LangfuseAPI(base_url=kernel_env.url, username=kernel_env.public_key, password=kernel_env.secret_key)
    names = [trace.name for trace in api.trace.list(limit=50).data]
    assert "nested-loop-cell" in names and names.count("experiment-item-run") == 6
