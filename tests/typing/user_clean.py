"""A user program that type-checks cleanly (tests/typing/test_type_checkers.py runs mypy and pyright)."""

from __future__ import annotations

import asyncio
from typing import Any

from langfuse_nb import (
    Langfuse,
    LangfuseAgent,
    LangfuseEmbedding,
    LangfuseEvent,
    LangfuseGeneration,
    LangfuseSpan,
    LangfuseTool,
    get_client,
    observe,
    propagate_attributes,
)
from langfuse_nb.api import LangfuseAPI
from langfuse_nb.experiment import Evaluation
from langfuse_nb.model import ChatPromptClient, TextPromptClient

langfuse = Langfuse(
    public_key="pk-lf-local",
    secret_key="sk-lf-local",
    base_url="http://127.0.0.1:3939",
    flush_at=10,
    debug=False,
)


@observe
def add(a: int, b: int) -> int:
    return a + b


@observe(name="ask", as_type="generation", capture_output=False)
async def ask(question: str) -> str:
    return question.upper()


def task(*, item: Any, **kwargs: Any) -> str:
    return str(item)


def exact(*, input: Any, output: Any, expected_output: Any = None, **kwargs: Any) -> Evaluation:
    return Evaluation(name="exact", value=float(output == expected_output))


def main() -> None:
    total: int = add(1, 2)
    answer: str = asyncio.run(ask("why?"))
    span: LangfuseSpan = langfuse.start_span(name="root", input={"q": "hi"}, level="DEBUG")
    child: LangfuseSpan = span.start_span("child", {"x": 1})
    gen: LangfuseGeneration = span.start_observation(
        name="llm", as_type="generation", model="gpt-4o", usage_details={"input": 3, "output": 5}
    )
    gen.update(output="hello", cost_details={"total": 0.01}).end()
    tool: LangfuseTool = langfuse.start_observation(name="search", as_type="tool", input="query")
    emb: LangfuseEmbedding = langfuse.start_observation(name="embed", as_type="embedding", model="e5")
    event: LangfuseEvent = langfuse.create_event(name="clicked", metadata={"button": "ok"})
    for observation in (child, tool, emb, event):
        observation.end()
    span.score(name="quality", value=0.9, comment="good")
    span.update_trace(user_id="u-1", tags=["typed"]).end()
    trace_id = langfuse.create_trace_id()
    with langfuse.start_as_current_observation(
        name="agent", as_type="agent", trace_context={"trace_id": trace_id}
    ) as agent:
        same_agent: LangfuseAgent = agent
        same_agent.update(metadata={"step": 1})
        langfuse.update_current_trace(session_id="s-1", public=False)
        langfuse.score_current_trace(name="ok", value=1, data_type="BOOLEAN")
    with langfuse.start_as_current_observation(name="gen", as_type="generation") as generation:
        same_generation: LangfuseGeneration = generation
        same_generation.update(model="m", completion_start_time=None)
        langfuse.update_current_generation(usage_details={"input": 1})
    with propagate_attributes(user_id="u-2", metadata={"k": "v"}):
        add(3, 4)
    langfuse.create_score(name="accuracy", value=0.5, trace_id="t" * 32, data_type="NUMERIC")
    text_prompt: TextPromptClient = langfuse.get_prompt("greeting", fallback="Hi {{name}}")
    greeting: str = text_prompt.compile(name="Ada")
    chat_prompt: ChatPromptClient = langfuse.get_prompt("chat", type="chat", label="production")
    messages: list[dict[str, Any]] = chat_prompt.compile()
    result = langfuse.run_experiment(
        name="exp",
        data=[{"input": 1, "expected_output": "1"}],
        task=task,
        evaluators=[exact],
        max_concurrency=4,
    )
    print(result.format(), total, answer, greeting, messages)
    dataset = langfuse.create_dataset(name="qa", description="questions")
    langfuse.create_dataset_item(dataset_name=dataset.name, input={"q": 1}, expected_output="1")
    dataset_result = langfuse.get_dataset("qa").run_experiment(name="on-qa", task=task, evaluators=[exact])
    print(dataset_result.dataset_run_id)
    batch = langfuse.run_batched_evaluation(scope="traces", mapper=task, evaluators=[exact], max_items=5)
    print(batch.total_items_processed)
    api: LangfuseAPI = get_client().api
    url: str | None = langfuse.get_trace_url(trace_id=span.trace_id)
    print(api, url, langfuse.auth_check())
    langfuse.flush(timeout=2.0)
    langfuse.shutdown()
