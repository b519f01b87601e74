"""run_batched_evaluation against the embedded server: paging, filters, retries, resume, scopes."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest

from langfuse_nb.batch_evaluation import EvaluatorInputs
from langfuse_nb.experiment import Evaluation
from langfuse_nb.sdk.experiments import batch as batch_module

pytestmark = pytest.mark.timeout(60)


def _tag_filter(tag: str) -> str:
    return json.dumps([{"type": "arrayOptions", "column": "tags", "operator": "any of", "value": [tag]}])


def _make_traces(lf: Any, tag: str, n: int) -> None:
    for i in range(n):
        with lf.start_as_current_observation(name=f"batch-{tag}") as span:
            span.update_trace(tags=[tag], input={"i": i}, output="x" * i, metadata={"i": i})
            with span.start_as_current_observation(name=f"gen-{tag}", as_type="generation") as generation:
                generation.update(input=f"p{i}", output=f"c{i}")
    lf.flush()


@pytest.fixture(scope="module")
def traces(lf: Any, reader: Any) -> str:
    """23 traces (and 23 generations) tagged with one fresh tag."""
    tag = f"b-{uuid.uuid4().hex[:8]}"
    _make_traces(lf, tag, 23)
    reader.wait_for(lambda: len(reader.all_pages("/api/public/traces", tags=tag)) == 23)
    return tag


def _mapper(*, item, **_):
    return EvaluatorInputs(input=item.input, output=item.output, metadata={"id": item.id})


def _length(*, output, **_):
    return Evaluation(name="length", value=len(output or ""), metadata={"from": "eval"})


def _as_dict(*, input, **_):
    return {"name": "index", "value": input["i"]}  # F3: dicts are accepted


def test_traces_over_several_pages_with_filter_metadata_and_composite(
    lf: Any, reader: Any, traces: str
) -> None:
    def composite(*, evaluations, item, **_):
        return {"name": "sum", "value": sum(e.value for e in evaluations), "comment": item.id}

    def broken(**_):
        raise RuntimeError("nope")

    result = lf.run_batched_evaluation(
        scope="traces",
        mapper=_mapper,
        evaluators=[_length, _as_dict, broken],
        composite_evaluator=composite,
        filter=_tag_filter(traces),
        fetch_batch_size=5,
        metadata={"run": traces},
        max_concurrency=3,
    )
    assert result.completed and not result.has_more_items and result.resume_token is None
    assert result.total_items_fetched == 23 and result.total_items_processed == 23
    assert result.total_scores_created == 46 and result.total_composite_scores_created == 23
    assert result.total_evaluations_failed == 23
    stats = {s.name: s for s in result.evaluator_stats}
    assert stats["broken"].failed_runs == 23 and stats["_length"].total_scores_created == 23
    assert len(result.item_evaluations) == 23
    frame = result.to_dataframe()
    assert list(frame.columns) == ["item_id", "length", "index", "sum", "sum_comment", "error"]
    assert len(frame) == 23 and (frame["sum"] == frame["length"] + frame["index"]).all()

    def arrived() -> list[dict[str, Any]]:
        rows = [
            s
            for s in reader.all_pages("/api/public/v2/scores", name="length")
            if (s.get("metadata") or {}).get("run") == traces
        ]
        return rows if len(rows) == 23 else []

    scores = reader.wait_for(arrived)
    assert len(scores) == 23 and all(s["metadata"] == {"from": "eval", "run": traces} for s in scores)
    assert {s["traceId"] for s in scores} == set(result.item_evaluations)


def test_max_items_stops_early(lf: Any, traces: str) -> None:
    result = lf.run_batched_evaluation(
        scope="traces",
        mapper=_mapper,
        evaluators=[_length],
        filter=_tag_filter(traces),
        fetch_batch_size=5,
        max_items=7,
    )
    assert result.completed and result.has_more_items
    # two pages of 5 were fetched to reach 7 items (the reference counts what it fetched)
    assert result.total_items_fetched == 10 and result.total_items_processed == 7


def test_observations_scope_scores_carry_trace_id(lf: Any, reader: Any, traces: str) -> None:
    name_filter = json.dumps(
        [{"type": "string", "column": "name", "operator": "=", "value": f"gen-{traces}"}]
    )

    async def mapper(*, item, **_):
        return EvaluatorInputs(input=item.input, output=item.output)

    def exact(*, input, output, **_):
        return Evaluation(name=f"obs-{traces}", value=float(output == "c" + input[1:]))

    result = lf.run_batched_evaluation(
        scope="observations", mapper=mapper, evaluators=[exact], filter=name_filter, fetch_batch_size=10
    )
    assert result.completed and result.total_items_processed == 23

    def arrived() -> list[dict[str, Any]]:
        rows = reader.all_pages("/api/public/v2/scores", name=f"obs-{traces}")
        return rows if len(rows) == 23 else []

    scores = reader.wait_for(arrived)
    assert all(s["traceId"] and s["observationId"] for s in scores)  # F5
    assert {s["observationId"] for s in scores} == set(result.item_evaluations)
    assert all(s["value"] == 1.0 for s in scores)


def test_invalid_scope_raises(lf: Any) -> None:
    with pytest.raises(ValueError, match="traces"):
        lf.run_batched_evaluation(scope="sessions", mapper=_mapper, evaluators=[_length])


def test_mapper_failures_are_counted_not_fatal(lf: Any, traces: str) -> None:
    def picky(*, item, **_):
        if item.input["i"] % 4 == 0:
            raise KeyError("missing")
        return EvaluatorInputs(input=item.input, output=item.output)

    result = lf.run_batched_evaluation(
        scope="traces", mapper=picky, evaluators=[_length], filter=_tag_filter(traces), fetch_batch_size=50
    )
    assert result.completed and result.total_items_failed == 6 and result.total_items_processed == 17
    assert result.error_summary == {"KeyError": 6} and len(result.failed_item_ids) == 6
    assert result.to_dataframe()["error"].notna().sum() == 6


class _FlakyList:
    """Wraps ``api.trace.list``: fails for the given pages (``times`` attempts each; -1 = always)."""

    def __init__(self, real: Any, failing_pages: dict[int, int]) -> None:
        self.real, self.failing, self.calls = real, dict(failing_pages), Counter()

    def __call__(self, **kwargs: Any) -> Any:
        page = kwargs["page"]
        self.calls[page] += 1
        remaining = self.failing.get(page, 0)
        if remaining:
            self.failing[page] = remaining - 1
            raise httpx.ConnectError("injected")
        return self.real(**kwargs)


def test_fetch_retries_with_backoff(lf: Any, traces: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_module, "RETRY_BASE_DELAY", 0.01)
    flaky = _FlakyList(lf.api.trace.list, {2: 2})
    monkeypatch.setattr(lf.api.trace, "list", flaky)
    result = lf.run_batched_evaluation(
        scope="traces",
        mapper=_mapper,
        evaluators=[_length],
        filter=_tag_filter(traces),
        fetch_batch_size=10,
        max_retries=3,
    )
    assert result.completed and result.total_items_processed == 23 and flaky.calls[2] == 3


def test_resume_after_injected_failure(lf: Any, traces: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_module, "RETRY_BASE_DELAY", 0.01)
    flaky = _FlakyList(lf.api.trace.list, {3: -1})
    monkeypatch.setattr(lf.api.trace, "list", flaky)
    first = lf.run_batched_evaluation(
        scope="traces",
        mapper=_mapper,
        evaluators=[_length],
        filter=_tag_filter(traces),
        fetch_batch_size=5,
        max_retries=2,
    )
    assert not first.completed and first.total_items_processed == 10 and flaky.calls[3] == 3
    token = first.resume_token
    assert token is not None and token.items_processed == 10 and token.direction == "desc"
    assert "Use resume_from parameter to continue" in str(first)
    assert first.fetch_error == "page 3: ConnectError: injected"
    monkeypatch.setattr(lf.api.trace, "list", flaky.real)

    second = lf.run_batched_evaluation(
        scope="traces",
        mapper=_mapper,
        evaluators=[_length],
        filter=_tag_filter(traces),
        fetch_batch_size=5,
        resume_from=token,
    )
    assert second.completed and second.resume_token is None
    processed = list(first.item_evaluations) + list(second.item_evaluations)
    assert len(processed) == 23 and len(set(processed)) == 23  # nothing skipped, nothing twice


def test_interrupted_batch_keeps_partial_result_and_resumes(lf: Any, traces: str) -> None:
    import asyncio
    import os
    import signal
    import threading
    import time

    async def slow_mapper(*, item, **_):
        await asyncio.sleep(0.04)
        return EvaluatorInputs(input=item.input, output=item.output)

    def run() -> Any:
        return lf.run_batched_evaluation(
            scope="traces",
            mapper=slow_mapper,
            evaluators=[_length],
            filter=_tag_filter(traces),
            fetch_batch_size=5,
            max_concurrency=1,
        )

    async def cell() -> Any:
        threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        try:
            run()
        except KeyboardInterrupt as exc:
            return exc.partial_result
        raise AssertionError("no interrupt")

    loop = asyncio.new_event_loop()
    try:
        started = time.monotonic()
        partial = loop.run_until_complete(cell())
        assert time.monotonic() - started < 2.0
    finally:
        loop.close()
    assert lf.last_batch_evaluation_result is partial
    assert not partial.completed and 0 < partial.total_items_processed < 23
    token = partial.resume_token
    assert token is not None and token.items_processed == partial.total_items_processed

    rest = lf.run_batched_evaluation(
        scope="traces",
        mapper=_mapper,
        evaluators=[_length],
        filter=_tag_filter(traces),
        fetch_batch_size=5,
        resume_from=token,
    )
    assert rest.completed
    done = list(partial.item_evaluations) + list(rest.item_evaluations)
    assert len(done) == 23 and len(set(done)) == 23


def test_reference_style_runner_entry_point(lf: Any, traces: str) -> None:
    import asyncio

    from langfuse_nb.batch_evaluation import BatchEvaluationRunner

    result = asyncio.run(
        BatchEvaluationRunner(lf).run_async(
            scope="traces", mapper=_mapper, evaluators=[_length], filter=_tag_filter(traces), max_items=3
        )
    )
    assert result.completed and result.total_items_processed == 3
