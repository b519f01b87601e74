"""End to end against the embedded langfuse_nb server: our spans and scores become traces it serves."""

from __future__ import annotations

from typing import Any

import pytest

from langfuse_nb import Langfuse, observe


@pytest.fixture
def server_client(server: Any) -> Any:
    client = Langfuse(
        public_key=server.public_key, secret_key=server.secret_key, base_url=server.url, environment="e2e"
    )
    yield client
    client.shutdown(timeout=5)


def test_observe_tree_and_scores_arrive_on_the_server(server_client: Any) -> None:
    client = server_client

    @observe(as_type="generation")
    def llm(q: str) -> str:
        client.update_current_generation(model="gpt-4o", usage_details={"input": 3, "output": 5})
        return "answer"

    @observe(name="e2e-root")
    def pipeline(q: str) -> str:
        client.update_current_trace(user_id="e2e-user", tags=["e2e"])
        client.score_current_trace(name="quality", value=0.75)
        return llm(q)

    pipeline("question")
    trace_id = client.get_current_trace_id()
    assert trace_id is None  # nothing is active outside the call
    client.flush(timeout=10)
    traces = client.api.trace.list(user_id="e2e-user").data
    assert traces, "trace not stored"
    trace = client.api.trace.get(traces[0].id)
    assert trace.name == "e2e-root" and trace.user_id == "e2e-user" and "e2e" in trace.tags
    kinds = {o.name: o.type for o in trace.observations}
    assert kinds == {"e2e-root": "SPAN", "llm": "GENERATION"}
    generation = next(o for o in trace.observations if o.name == "llm")
    assert generation.model == "gpt-4o" and generation.output == "answer"
    assert any(s.name == "quality" and s.value == 0.75 for s in trace.scores)
    assert client.get_trace_url(trace_id=trace.id).startswith(f"{client._settings.base_url}/project/")
    assert client.auth_check() is True
