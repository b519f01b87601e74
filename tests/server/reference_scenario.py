"""Drive a langfuse_nb server with the PyPI langfuse==3.11.2 SDK; run in a subprocess (global OTel state).

Usage: python reference_scenario.py <base_url>. Exits non-zero on the first failed expectation.
"""

from __future__ import annotations

import base64
import json
import sys
import uuid

from langfuse import Langfuse
from langfuse.batch_evaluation import EvaluatorInputs
from langfuse.experiment import Evaluation

TYPES = [
    "span",
    "generation",
    "event",
    "agent",
    "tool",
    "chain",
    "retriever",
    "evaluator",
    "embedding",
    "guardrail",
]


def main(url: str) -> None:
    lf = Langfuse(public_key="pk-lf-local", secret_key="sk-lf-local", base_url=url)
    assert lf.auth_check()
    tag = uuid.uuid4().hex[:8]
    trace_id = trace_every_type(lf, tag)
    prompt = prompts(lf, tag)
    dataset_and_experiment(lf, tag, prompt)
    media(lf)
    batch_evaluation(lf, tag)
    check_reads(lf, tag, trace_id)
    lf.shutdown()
    print("REFERENCE SCENARIO OK")


def trace_every_type(lf: Langfuse, tag: str) -> str:
    with lf.start_as_current_observation(name="root", as_type="span", input={"q": tag}) as root:
        root.update_trace(
            user_id=f"user-{tag}",
            session_id=f"session-{tag}",
            tags=[tag],
            name=f"trace-{tag}",
            metadata={"suite": "reference"},
        )
        for kind in TYPES[1:]:
            child = root.start_observation(
                name=f"child-{kind}",
                as_type=kind,
                input=kind,
                **(
                    {
                        "model": "gpt-x",
                        "usage_details": {"input": 3, "output": 4},
                        "cost_details": {"total": 0.25},
                    }
                    if kind in ("generation", "embedding")
                    else {}
                ),
            )
            child.end()
        with root.start_as_current_observation(name="nested", as_type="agent") as agent:
            agent.start_observation(name="deep-tool", as_type="tool", level="WARNING").end()
            agent.score(name="agent-quality", value=0.5, comment="ok")
        root.score_trace(name="verdict", value="good", data_type="CATEGORICAL")
        root.score_trace(name="passed", value=1, data_type="BOOLEAN")
        root.update(output={"answer": 42})
        trace_id = root.trace_id
    lf.flush()
    return trace_id


def prompts(lf: Langfuse, tag: str):
    name = f"ref/{tag} prompt"
    lf.create_prompt(name=name, prompt="Hi {{who}}", labels=["production"], tags=["ref"], config={"t": 0.1})
    second = lf.create_prompt(name=name, prompt="Hello {{who}}", labels=[])
    assert second.version == 2 and second.tags == ["ref"]
    fetched = lf.get_prompt(name, cache_ttl_seconds=0)
    assert fetched.version == 1 and fetched.compile(who="you") == "Hi you" and fetched.config == {"t": 0.1}
    assert lf.get_prompt(name, label="latest", cache_ttl_seconds=0).version == 2
    lf.update_prompt(name=name, version=2, new_labels=["production"])
    assert lf.get_prompt(name, cache_ttl_seconds=0).version == 2
    chat = lf.create_prompt(
        name=f"ref/{tag} chat",
        type="chat",
        labels=["production"],
        prompt=[{"role": "system", "content": "be {{tone}}"}, {"type": "placeholder", "name": "history"}],
    )
    compiled = lf.get_prompt(chat.name, type="chat", cache_ttl_seconds=0).compile(
        tone="brief", history=[{"role": "user", "content": "hi"}]
    )
    assert compiled == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}], (
        compiled
    )
    return lf.get_prompt(name, version=2, cache_ttl_seconds=0)


def dataset_and_experiment(lf: Langfuse, tag: str, prompt) -> None:
    name = f"ref/{tag} dataset"
    lf.create_dataset(name=name, description="reference", metadata={"m": 1})
    for i in range(4):
        lf.create_dataset_item(dataset_name=name, input={"n": i}, expected_output=i * 2, metadata={"i": i})
    dataset = lf.get_dataset(name, fetch_items_page_size=3)
    assert len(dataset.items) == 4

    def task(*, item, **_):
        with lf.start_as_current_observation(name="llm", as_type="generation", prompt=prompt) as gen:
            gen.update(output=item.input["n"] * 2)
        return item.input["n"] * 2

    def exact(*, output, expected_output, **_):
        return Evaluation(name="exact", value=float(output == expected_output))

    result = dataset.run_experiment(name=f"exp-{tag}", task=task, evaluators=[exact])
    assert len(result.item_results) == 4
    runs = lf.api.datasets.get_runs(name)
    assert len(runs.data) == 1
    run = lf.api.datasets.get_run(name, runs.data[0].name)
    assert len(run.dataset_run_items) == 4
    lf.flush()
    linked = lf.api.observations.get_many(name="llm", type="GENERATION", limit=100).data
    assert any(o.prompt_name == prompt.name and o.prompt_version == 2 and o.prompt_id for o in linked)
    scores = lf.api.score_v_2.get(name="exact", limit=100).data
    assert len(scores) >= 4 and all(s.value == 1.0 for s in scores)


def media(lf: Langfuse) -> None:
    payload = base64.b64encode(b"\x89PNG reference bytes " + uuid.uuid4().bytes).decode()
    with lf.start_as_current_observation(
        name="media", as_type="span", input={"image": f"data:image/png;base64,{payload}"}
    ) as span:
        trace_id = span.trace_id
    lf.flush()
    stored = lf.api.trace.get(trace_id).observations[0].input
    assert stored["image"].startswith("@@@langfuseMedia:type=image/png|id="), stored
    resolved = lf.resolve_media_references(obj=stored, resolve_with="base64_data_uri")
    assert resolved["image"] == f"data:image/png;base64,{payload}"


def batch_evaluation(lf: Langfuse, tag: str) -> None:
    flt = json.dumps([{"type": "arrayOptions", "column": "tags", "operator": "any of", "value": [tag]}])

    def mapper(*, item, **_):
        return EvaluatorInputs(input=item.input, output=item.output, expected_output=None, metadata={})

    def has_output(*, output, **_):
        return Evaluation(name="has-output", value=float(output is not None))

    traces = lf.run_batched_evaluation(scope="traces", mapper=mapper, evaluators=[has_output], filter=flt)
    assert (traces.total_items_fetched, traces.total_scores_created, traces.total_evaluations_failed) == (
        1,
        1,
        0,
    )
    obs_filter = json.dumps([{"type": "string", "column": "name", "operator": "=", "value": "deep-tool"}])
    observations = lf.run_batched_evaluation(
        scope="observations", mapper=mapper, evaluators=[has_output], filter=obs_filter, fetch_batch_size=2
    )
    assert observations.total_items_fetched >= 1 and observations.total_evaluations_failed == 0
    lf.flush()


def check_reads(lf: Langfuse, tag: str, trace_id: str) -> None:
    trace = lf.api.trace.get(trace_id)
    assert trace.name == f"trace-{tag}" and trace.user_id == f"user-{tag}" and trace.tags == [tag]
    assert trace.input == {"q": tag} and trace.output == {"answer": 42}
    types = sorted(o.type for o in trace.observations)
    assert types == sorted([t.upper() for t in TYPES] + ["AGENT", "TOOL"]), types
    assert abs(trace.total_cost - 0.5) < 1e-9 and trace.latency >= 0
    names = sorted(s.name for s in trace.scores)
    # trace-level batch score plus the observation-level one on deep-tool (trace resolved by the server)
    assert names == ["agent-quality", "has-output", "has-output", "passed", "verdict"], names
    listed = lf.api.trace.list(user_id=f"user-{tag}", tags=[tag])
    assert [t.id for t in listed.data] == [trace_id] and listed.meta.total_items == 1
    assert lf.api.sessions.get(f"session-{tag}").traces[0].id == trace_id
    warn = lf.api.observations.get_many(trace_id=trace_id, level="WARNING").data
    assert [o.name for o in warn] == ["deep-tool"]
    generation = next(o for o in trace.observations if o.type == "GENERATION")
    assert generation.usage_details == {"input": 3, "output": 4, "total": 7} and generation.model == "gpt-x"
    tool_scores = [
        s
        for s in lf.api.score_v_2.get(name="has-output", trace_id=trace_id).data
        if s.observation_id == warn[0].id
    ]
    assert len(tool_scores) == 1  # sent without traceId; the server resolved it from the observation


if __name__ == "__main__":
    main(sys.argv[1])
