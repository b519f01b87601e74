"""run_experiment end to end against the embedded server (real HTTP): spans, scores, dataset runs."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from langfuse_nb.experiment import Evaluation
from langfuse_nb.sdk.experiments.runner import local_item_id

pytestmark = pytest.mark.timeout(60)


def _evaluators(lf: Any) -> list[Any]:
    def exact(*, output, expected_output, **_):
        return {"name": "exact", "value": float(output == expected_output), "comment": f"got {output}"}

    def several(*, input, output, **_):
        return [
            Evaluation(name="length", value=len(output)),
            {"name": "label", "value": "ok", "data_type": "CATEGORICAL"},
        ]

    async def judge(*, output, **_):
        await asyncio.sleep(0)
        return Evaluation(name="judge", value=True, data_type="BOOLEAN")

    def broken(**_):
        raise RuntimeError("evaluator bug")

    return [exact, several, judge, broken]


def _composite(*, evaluations, **_):
    numeric = [e.value for e in evaluations if e.name == "exact"]
    return {"name": "composite", "value": sum(numeric)}


def test_local_experiment_traces_scores_and_failures(lf: Any, reader: Any) -> None:
    name = f"local-{uuid.uuid4().hex[:8]}"
    data = [{"input": f"q{i}", "expected_output": f"Q{i}", "metadata": {"n": i}} for i in range(4)]
    data.append({"input": "explode", "expected_output": None})

    def task(*, item, **_):
        with lf.start_as_current_observation(name="child-step", as_type="generation") as child:
            child.update(output="inner")
        if item["input"] == "explode":
            raise ValueError("task bug")
        return item["input"].upper()

    def run_avg(*, item_results, **_):
        return {"name": "run_avg", "value": 1.0}

    result = lf.run_experiment(
        name=name,
        description="local test",
        data=data,
        task=task,
        evaluators=_evaluators(lf),
        composite_evaluator=_composite,
        run_evaluators=[run_avg],
        metadata={"model": "m1"},
        progress=False,
    )

    assert result.name == name and result.run_name.startswith(f"{name} - ") and result.run_name.endswith("Z")
    assert len(result.item_results) == 4 and len(result.failed_item_results) == 1
    assert result.failed_item_results[0].error == "ValueError: task bug"
    first = result.item_results[0]
    assert first.output == "Q0" and first.item_id == local_item_id("q0")
    assert [e.name for e in first.evaluations] == ["exact", "length", "label", "judge", "composite"]
    assert [e.name for e in result.run_evaluations] == ["run_avg"]  # K8: returned, not sent
    assert result.dataset_run_id is None and result.dataset_run_url is None
    assert lf.last_experiment_result is result

    observations = reader.wait_for(
        lambda: [
            o
            for o in reader.all_pages("/api/public/observations", traceId=first.trace_id)
            if o["name"] in ("experiment-item-run", "child-step")
        ],
        timeout=10,
    )
    by_name = {o["name"]: o for o in observations}
    root, child = by_name["experiment-item-run"], by_name["child-step"]
    assert root["parentObservationId"] is None and child["parentObservationId"] == root["id"]
    for obs in (root, child):  # K9: propagated experiment attributes and environment
        assert obs["environment"] == "sdk-experiment"
        assert obs["experimentName"] == result.run_name
        assert obs["experimentItemId"] == first.item_id
        assert obs["experimentItemRootSpanId"] == root["id"]
    assert root["experimentDescription"] == "local test" and root["experimentItemExpectedOutput"] == "Q0"
    assert root["input"] == "q0" and root["output"] == "Q0"
    assert root["metadata"]["experiment_name"] == name and root["metadata"]["model"] == "m1"

    scores = reader.wait_for(lambda: _scores(reader, first.trace_id, 5))
    assert sorted(s["name"] for s in scores) == ["composite", "exact", "judge", "label", "length"]
    assert {s["observationId"] for s in scores} == {root["id"]}
    assert not reader.get("/api/public/v2/scores", name="run_avg")["data"]

    failed_trace = result.failed_item_results[0].trace_id
    failed_root = reader.wait_for(
        lambda: [
            o
            for o in reader.all_pages("/api/public/observations", traceId=failed_trace)
            if o["name"] == "experiment-item-run"
        ]
    )
    assert failed_root[0]["level"] == "ERROR" and failed_root[0]["output"] == "Error: task bug"


def _scores(reader: Any, trace_id: str, expected: int) -> list[dict[str, Any]]:
    scores = reader.all_pages("/api/public/v2/scores", traceId=trace_id)
    return scores if len(scores) >= expected else []


def test_dataset_experiment_links_runs_and_scores_run_evaluations(lf: Any, reader: Any) -> None:
    dataset_name = f"ds-{uuid.uuid4().hex[:8]}"
    lf.create_dataset(name=dataset_name)
    for i in range(3):
        lf.create_dataset_item(
            dataset_name=dataset_name, input={"q": i}, expected_output=i * 2, metadata={"row": i}
        )
    dataset = lf.get_dataset(dataset_name)

    async def task(*, item, **_):
        await asyncio.sleep(0.01)
        return item.input["q"] * 2

    def exact(*, output, expected_output, **_):
        return Evaluation(name="exact", value=float(output == expected_output))

    def mean(*, item_results, **_):
        values = [e.value for r in item_results for e in r.evaluations]
        return Evaluation(name="mean_exact", value=sum(values) / len(values))

    result = dataset.run_experiment(
        name="ds-exp",
        run_name=f"{dataset_name}-run",
        description="d",
        task=task,
        evaluators=[exact],
        run_evaluators=[mean],
        metadata={"k": "v"},
    )
    assert result.run_name == f"{dataset_name}-run" and len(result.item_results) == 3
    assert result.dataset_run_id and all(
        r.dataset_run_id == result.dataset_run_id for r in result.item_results
    )
    assert {r.item_id for r in result.item_results} == {item.id for item in dataset.items}
    assert result.dataset_run_url.endswith(f"/datasets/{dataset.id}/runs/{result.dataset_run_id}")
    assert result["dataset_run_url"] == result.dataset_run_url

    run_items = reader.all_pages(
        "/api/public/dataset-run-items", datasetId=dataset.id, runName=result.run_name
    )
    assert {ri["traceId"] for ri in run_items} == {r.trace_id for r in result.item_results}
    assert all(ri["observationId"] for ri in run_items)

    run_scores = reader.wait_for(
        lambda: reader.get("/api/public/v2/scores", datasetRunId=result.dataset_run_id)["data"]
    )
    assert [s["name"] for s in run_scores] == ["mean_exact"] and run_scores[0]["value"] == 1.0
    root = reader.wait_for(
        lambda: [
            o for o in reader.all_pages("/api/public/observations", traceId=result.item_results[0].trace_id)
        ]
    )[0]
    assert root["experimentId"] == result.dataset_run_id and root["experimentDatasetId"] == dataset.id


def test_dataset_run_experiment_async_twin(lf: Any, reader: Any) -> None:
    dataset_name = f"ds-async-{uuid.uuid4().hex[:8]}"
    lf.create_dataset(name=dataset_name)
    for i in range(2):
        lf.create_dataset_item(dataset_name=dataset_name, input=f"in{i}", expected_output=f"IN{i}")
    dataset = lf.get_dataset(dataset_name)

    async def task(*, item, **_):
        await asyncio.sleep(0)
        return item.input.upper()

    result = asyncio.run(dataset.run_experiment_async(name="async-ds", task=task))
    assert len(result.item_results) == 2 and result.dataset_run_id
    assert {r.output for r in result.item_results} == {"IN0", "IN1"}
    runs = reader.get(f"/api/public/datasets/{dataset_name}/runs")["data"]
    assert [run["name"] for run in runs] == [result.run_name]


def test_results_show_latency_tokens_cost_and_link_traces(lf: Any, reader: Any) -> None:
    """Issue 10 item 7: per-item latency, tokens and cost (as generations recorded them), trace links."""

    def task(*, item, **_):
        with lf.start_as_current_observation(name="llm", as_type="generation", model="m-1") as gen:
            gen.update(
                output="x",
                usage_details={"input": 10 * item["input"], "output": 2},
                cost_details={"input": 0.001 * item["input"], "output": 0.0005},
            )
        return "x"

    result = lf.run_experiment(name="metrics", data=[{"input": 1}, {"input": 2}], task=task)
    first, second = result.item_results
    assert first.latency is not None and 0 <= first.latency < 5
    assert first.usage == {"input": 10, "output": 2} and second.usage == {"input": 20, "output": 2}
    assert second.cost == pytest.approx({"input": 0.002, "output": 0.0005})
    assert first.trace_url and first.trace_url.endswith(f"/traces/{first.trace_id}")
    html = result._repr_html_()
    assert f"href='{first.trace_url}'" in html and " ms<" in html
    assert ">12<" in html and ">$0.0015<" in html  # tokens and cost of item 1
    assert "Tokens</th><td>34" in html and "Cost</th><td>$0.004" in html  # run totals
    frame = result.to_dataframe()
    assert frame["total_tokens"].tolist() == [12, 22]
    assert frame["total_cost"].tolist() == pytest.approx([0.0015, 0.0025])
    assert (frame["latency"] >= 0).all()


def test_batch_results_show_what_the_server_reports(lf: Any, reader: Any) -> None:
    tag = f"m-{uuid.uuid4().hex[:8]}"
    with lf.start_as_current_observation(name="costly") as span:
        span.update_trace(tags=[tag])
        with span.start_as_current_observation(name="g", as_type="generation", model="m-1") as gen:
            gen.update(usage_details={"input": 5, "output": 5}, cost_details={"total": 0.25})
    lf.flush()
    reader.wait_for(lambda: reader.all_pages("/api/public/traces", tags=tag))
    import json

    flt = json.dumps([{"type": "arrayOptions", "column": "tags", "operator": "any of", "value": [tag]}])
    result = lf.run_batched_evaluation(
        scope="traces", filter=flt, mapper=lambda *, item, **_: {"input": 1, "output": 1}, evaluators=[]
    )
    (metrics,) = result.item_metrics.values()
    assert metrics.latency is not None and metrics.latency >= 0
    assert metrics.cost == {"total": 0.25}  # the trace list's totalCost
    frame = result.to_dataframe()
    assert frame["total_cost"].tolist() == [0.25] and frame["latency"].notna().all()
    assert ">$0.2500<" in result._repr_html_()


def test_results_show_the_cost_the_server_computed(lf: Any) -> None:
    """Generations that recorded usage only: the run's results take the server's price-table cost."""

    def task(*, item, **_):
        with lf.start_as_current_observation(name="llm", as_type="generation", model="gpt-4o-mini") as gen:
            gen.update(output="x", usage_details={"input": 1000, "output": 100})
        return "x"

    result = lf.run_experiment(name="priced", data=[{"input": 1}], task=task)
    (item,) = result.item_results
    assert item.usage == {"input": 1000, "output": 100}
    assert item.cost == {"total": pytest.approx(1000 * 1.5e-07 + 100 * 6e-07)}
    assert result.to_dataframe()["total_cost"].tolist() == [pytest.approx(0.00021)]
