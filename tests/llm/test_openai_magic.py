"""The drop-in inside a ``%%langfuse_trace`` cell: the generation is a child of the cell's observation."""

from __future__ import annotations

import uuid

import pytest
from llmkit import read_observations

pytest.importorskip("openai")
pytest.importorskip("IPython")

from IPython.core.interactiveshell import InteractiveShell  # noqa: E402


class _Shell(InteractiveShell):
    def run_cell(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = super().run_cell(*args, **kwargs)
        result.raise_error()
        return result


def test_generation_nests_under_the_cell(server_env, fake_llm):
    shell = _Shell.instance()
    name = f"cell-{uuid.uuid4().hex[:8]}"
    try:
        shell.run_line_magic("load_ext", "langfuse_nb")
        shell.run_cell(
            f"%%langfuse_trace name={name}\n"
            "from langfuse_nb.openai import OpenAI\n"
            f"client = OpenAI(base_url={fake_llm.base_url!r}, api_key='sk-test')\n"
            "client.chat.completions.create(model='gpt-4o-mini',"
            " messages=[{'role': 'user', 'content': 'Hi'}],"
            f" name='{name}-llm', langfuse_public_key={server_env.public_key!r})\n"
        )
        from langfuse_nb import get_client

        get_client(public_key=server_env.public_key).flush()
        import httpx

        auth = (server_env.public_key, server_env.secret_key)
        with httpx.Client(base_url=server_env.url, auth=auth) as http:
            [cell] = http.get("/api/public/observations", params={"name": name}).json()["data"]
        by_name = {o["name"]: o for o in read_observations(server_env, cell["traceId"])}
    finally:
        from langfuse_nb.notebook import extension

        extension.unload_ipython_extension(shell)
        _Shell.clear_instance()
        InteractiveShell.clear_instance()
    generation = by_name[f"{name}-llm"]
    assert generation["parentObservationId"] == cell["id"] and generation["type"] == "GENERATION"
    assert generation["calculatedTotalCost"] > 0
