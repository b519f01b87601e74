"""A user program with deliberate mistakes: mypy and pyright must report every line whose comment says
expect-error, and no other line (tests/typing/test_type_checkers.py)."""

from __future__ import annotations

from typing import Any

from langfuse_nb import Langfuse, LangfuseGeneration, LangfuseSpan, observe, propagate_attributes

langfuse = Langfuse(public_keyy="pk")  # expect-error: misspelt constructor argument


@observe
def add(a: int, b: int) -> int:
    return a + b


@observe(name="x", as_type="generatoin")  # expect-error: not an observation type
def helper() -> None: ...


def task(*, item: Any, **kwargs: Any) -> str:
    return str(item)


def main() -> None:
    langfuse.start_span(name="a", nmae="b")  # expect-error: misspelt keyword
    langfuse.start_as_current_observation(name="a", as_tyep="generation")  # expect-error: misspelt keyword
    langfuse.run_experiment(name="e", data=[], task=task, evaluatorss=[])  # expect-error: misspelt keyword
    langfuse.start_observation(name="a", as_type="llm")  # expect-error: wrong as_type literal
    generation = langfuse.start_observation(name="g", as_type="generation")
    generation.start_span("child")  # expect-error: spans have start_span, generations do not
    wrong: LangfuseGeneration = langfuse.start_span(name="s")  # expect-error: a span is not a generation
    span: LangfuseSpan = langfuse.start_span(name="s")
    span.update(modle="gpt-4o")  # expect-error: misspelt keyword
    langfuse.start_span(name="s", model="gpt-4o")  # expect-error: model is a generation field
    text: str = add("1", 2)  # expect-error: wrong argument type through @observe
    langfuse.create_score(name="s", value=1.0, trace_idd="t")  # expect-error: misspelt keyword
    langfuse.create_score(value=1.0)  # expect-error: name is required
    with propagate_attributes(user_idd="u"):  # expect-error: misspelt keyword
        pass
    chat = langfuse.get_prompt("p", type="chat")
    compiled: str = chat.compile()  # expect-error: a chat prompt compiles to messages
    langfuse.run_batched_evaluation(scope="trace", mapper=task, evaluators=[])  # expect-error: wrong scope
    langfuse.flush(timeout="soon")  # expect-error: wrong argument type
    langfuse.get_dataset("d").run_experiment(name="x", task=task, evaluatorss=[])  # expect-error: misspelt
    langfuse.create_dataset(nmae="d")  # expect-error: misspelt keyword
    langfuse.update_current_span(name="s", usage_details={"input": 1})  # expect-error: generation field
    with langfuse.start_as_current_observation(name="t", as_type="tool") as tool:
        tool.start_span("child")  # expect-error: a LangfuseTool has no start_span
    print(wrong, text, compiled)
