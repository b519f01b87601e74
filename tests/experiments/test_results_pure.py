"""Pure parts: evaluator-return normalisation (F3), format (F4), DataFrames, HTML, batch __str__."""

from __future__ import annotations

import sys
import time

import pytest

from langfuse_nb.batch_evaluation import (
    BatchEvaluationResult,
    BatchEvaluationResumeToken,
    EvaluatorInputs,
    EvaluatorStats,
)
from langfuse_nb.experiment import Evaluation, ExperimentItemResult, ExperimentResult
from langfuse_nb.sdk.experiments.evaluation import UserCallable, to_evaluations
from langfuse_nb.sdk.experiments.runner import local_item_id


def test_evaluations_accept_evaluation_dict_and_lists() -> None:
    one = Evaluation(name="a", value=1.0)
    assert to_evaluations(one) == [one]
    assert to_evaluations({"name": "b", "value": 0.5, "comment": "ok", "dataType": "NUMERIC"}) == [
        Evaluation(name="b", value=0.5, comment="ok", data_type="NUMERIC")
    ]
    mixed = to_evaluations(
        [one, {"name": "c", "value": "x", "data_type": "CATEGORICAL", "config_id": "k"}, None]
    )
    assert [e.name for e in mixed] == ["a", "c"] and mixed[1].config_id == "k"
    assert to_evaluations(None) == []


@pytest.mark.parametrize("bad", [{"value": 1}, {"name": "x"}, 42, "text"])
def test_invalid_evaluator_returns_raise(bad: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        to_evaluations(bad)


def test_evaluation_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        Evaluation("a", 1)  # type: ignore[misc]


def test_user_callables_get_only_the_arguments_they_name() -> None:
    def narrow(*, output):
        return output

    def wide(*, input, **kwargs):
        return sorted(kwargs)

    def mapper(trace):
        return trace

    assert UserCallable(narrow).call(input=1, output=2, expected_output=3) == 2
    assert UserCallable(wide).call(input=1, output=2, metadata=None) == ["metadata", "output"]
    assert UserCallable(mapper, item_may_be_positional=True).call(item="t") == "t"


def test_local_item_id_is_sha256_prefix_of_serialized_input() -> None:
    import hashlib

    assert local_item_id("hello") == hashlib.sha256(b"hello").hexdigest()[:16]
    assert local_item_id({"q": 1}) == hashlib.sha256(b'{"q": 1}').hexdigest()[:16]
    assert local_item_id(None) is None


def _result(n: int = 3, **kwargs: object) -> ExperimentResult:
    items = []
    for i in range(n):
        item_result = ExperimentItemResult(
            item={"input": f"q<{i}>", "expected_output": f"a{i}"},
            output=f"a{i}",
            evaluations=[
                Evaluation(name="acc", value=float(i % 2), comment="c<b>" if i == 0 else None),
                Evaluation(name="label", value="yes"),
            ],
            trace_id=f"{i:032x}",
            dataset_run_id=None,
            item_id=f"id{i}",
        )
        item_result._index = i
        items.append(item_result)
    failed = ExperimentItemResult(
        item={"input": "boom"},
        output=None,
        evaluations=[],
        trace_id="f" * 32,
        dataset_run_id=None,
        error="RuntimeError: boom",
        item_id="idf",
    )
    failed._index = n
    return ExperimentResult(
        name="exp",
        run_name="exp - run",
        description="desc",
        item_results=items,
        run_evaluations=[Evaluation(name="avg", value=0.5, comment="mean")],
        failed_item_results=[failed],
        **kwargs,  # type: ignore[arg-type]
    )


def test_format_has_real_newlines_and_summary() -> None:
    text = _result().format()
    assert "\\n" not in text  # F4
    lines = text.splitlines()
    assert "Individual Results: Hidden (3 items)" in lines
    assert "🧪 Experiment: exp" in lines and "📋 Run name: exp - run - desc" in lines
    assert "  • acc: 0.333" in lines and "  • avg: 0.500" in lines and "    💭 mean" in lines
    assert "1 items failed" in lines


def test_format_with_item_results() -> None:
    text = _result().format(include_item_results=True)
    assert "1. Item 1:" in text and "   Input:    q<0>" in text and "     • acc: 0.000" in text
    assert "       💭 c<b>" in text and "   Error:    RuntimeError: boom" in text
    assert (
        ExperimentResult(
            name="e", run_name="r", description=None, item_results=[], run_evaluations=[]
        ).format()
        == "No experiment results to display."
    )


def test_experiment_dataframe_columns_and_attrs() -> None:
    frame = _result().to_dataframe()
    assert list(frame.columns) == [
        "item_id",
        "input",
        "expected_output",
        "output",
        "acc",
        "label",
        "acc_comment",
        "latency",
        "total_tokens",
        "total_cost",
        "trace_id",
        "error",
    ]
    assert list(frame["item_id"]) == ["id0", "id1", "id2", "idf"]
    assert frame["acc"].tolist()[:3] == [0.0, 1.0, 0.0]
    assert frame["error"].iloc[3] == "RuntimeError: boom"
    assert frame.attrs["run_evaluations"] == {"avg": 0.5} and frame.attrs["run_name"] == "exp - run"
    assert list(_result().to_dataframe(include_comments=False, include_failed=False).columns) == [
        "item_id",
        "input",
        "expected_output",
        "output",
        "acc",
        "label",
        "latency",
        "total_tokens",
        "total_cost",
        "trace_id",
        "error",
    ]


def test_dataframe_of_10000_items_is_fast() -> None:
    result = _result(10_000)
    started = time.perf_counter()
    frame = result.to_dataframe()
    assert len(frame) == 10_001
    assert time.perf_counter() - started < 1.0


def test_html_is_escaped_and_summarises() -> None:
    page = _result()._repr_html_()
    assert "q&lt;0&gt;" in page and "q<0>" not in page
    assert "avg acc" in page and "RuntimeError: boom" in page


def test_html_links_only_web_urls() -> None:
    web = _result(dataset_run_url="https://lf.example/project/p/datasets/d/runs/r")._repr_html_()
    assert "<a href='https://lf.example/project/p/datasets/d/runs/r'" in web
    script = _result(dataset_run_url="javascript:alert(1)")._repr_html_()
    assert "href" not in script and "javascript:alert(1)" in script


def test_importing_and_formatting_results_does_not_import_pandas_or_tqdm() -> None:
    import subprocess

    code = (
        "import sys, langfuse_nb.experiment as e, langfuse_nb.batch_evaluation\n"
        "import langfuse_nb.sdk.experiments.mixin\n"
        "r = e.ExperimentResult(name='n', run_name='r', description=None, item_results=[],\n"
        "                       run_evaluations=[])\n"
        "r.format(); r._repr_html_()\n"
        "print('pandas' in sys.modules, 'tqdm' in sys.modules, 'IPython' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False", "False"]


def _batch(**overrides: object) -> BatchEvaluationResult:
    values: dict[str, object] = dict(
        total_items_fetched=4,
        total_items_processed=3,
        total_items_failed=1,
        total_scores_created=3,
        total_composite_scores_created=2,
        total_evaluations_failed=1,
        evaluator_stats=[
            EvaluatorStats(name="len", total_runs=4, successful_runs=3, failed_runs=1, total_scores_created=3)
        ],
        resume_token=None,
        completed=True,
        duration_seconds=2.0,
        failed_item_ids=["t4"],
        error_summary={"KeyError": 1},
        has_more_items=False,
        item_evaluations={f"t{i}": [Evaluation(name="len", value=i)] for i in range(1, 4)},
        item_errors={"t4": "KeyError: 'x'"},
    )
    values.update(overrides)
    return BatchEvaluationResult(**values)  # type: ignore[arg-type]


def test_batch_result_str() -> None:
    lines = str(_batch()).splitlines()
    assert "Status: Completed" in lines and "Success rate: 75.0%" in lines
    assert "Composite scores: 2" in lines and "Total scores: 5" in lines
    assert "    Runs: 3/4 (75.0% success)" in lines and "  KeyError: 1" in lines
    token = BatchEvaluationResumeToken(
        scope="traces",
        filter=None,
        last_processed_timestamp="2024-01-01T00:00:00",
        last_processed_id="t3",
        items_processed=3,
    )
    incomplete = str(_batch(completed=False, resume_token=token)).splitlines()
    assert (
        "Warning: Evaluation incomplete" in incomplete
        and "  Use resume_from parameter to continue" in incomplete
    )


def test_batch_dataframe_and_html() -> None:
    frame = _batch().to_dataframe()
    assert list(frame.columns) == ["item_id", "len", "error"]  # no tokens or cost: no metric columns
    assert frame["item_id"].tolist() == ["t1", "t2", "t3", "t4"]
    assert frame["error"].tolist()[-1] == "KeyError: 'x'"
    assert "<table>" in _batch()._repr_html_()


def test_evaluator_inputs_keyword_only() -> None:
    inputs = EvaluatorInputs(input=1, output=2)
    assert (inputs.expected_output, inputs.metadata) == (None, None)
    with pytest.raises(TypeError):
        EvaluatorInputs(1, 2)  # type: ignore[misc]


def test_public_modules_offer_the_reference_names() -> None:
    import langfuse_nb
    import langfuse_nb.batch_evaluation as batch
    import langfuse_nb.experiment as experiment

    for name in (
        "Evaluation",
        "EvaluatorFunction",
        "ExperimentData",
        "ExperimentItem",
        "ExperimentItemResult",
        "ExperimentResult",
        "LocalExperimentItem",
        "RunEvaluatorFunction",
        "TaskFunction",
        "create_evaluator_from_autoevals",
    ):
        assert name in experiment.__all__ and hasattr(experiment, name)
    for name in (
        "BatchEvaluationResult",
        "BatchEvaluationResumeToken",
        "BatchEvaluationRunner",
        "CompositeEvaluatorFunction",
        "Evaluation",
        "EvaluatorFunction",
        "EvaluatorInputs",
        "EvaluatorStats",
        "MapperFunction",
    ):
        assert name in batch.__all__ and hasattr(batch, name)
    assert langfuse_nb.Evaluation is experiment.Evaluation
    assert langfuse_nb.BatchEvaluationResumeToken is batch.BatchEvaluationResumeToken


def test_async_twins_share_the_sync_signatures_and_reject_unknown_arguments() -> None:
    import asyncio
    import inspect

    from langfuse_nb.sdk.experiments.mixin import ExperimentsMixin as Mixin

    assert inspect.signature(Mixin.run_experiment_async) == inspect.signature(Mixin.run_experiment)
    assert inspect.signature(Mixin.run_batched_evaluation_async) == inspect.signature(
        Mixin.run_batched_evaluation
    )
    with pytest.raises(TypeError):
        asyncio.run(Mixin().run_experiment_async(name="x", data=[], task=print, bogus=1))
    with pytest.raises(ValueError, match="observations"):
        asyncio.run(Mixin().run_batched_evaluation_async(scope="spans", mapper=print, evaluators=[]))


def test_an_interrupted_run_renders_as_one_line_in_ipython() -> None:
    from langfuse_nb.sdk.aio import RunInterrupted
    from langfuse_nb.sdk.experiments.batch_results import BatchEvaluationResult
    from langfuse_nb.sdk.experiments.results import ExperimentItemResult, ExperimentResult

    done = ExperimentItemResult(
        item={"input": 1}, output=1, evaluations=[], trace_id=None, dataset_run_id=None
    )
    partial = ExperimentResult(
        name="e",
        run_name="r",
        description=None,
        item_results=[done],
        run_evaluations=[],
        completed=False,
        planned_items=10,
    )
    exc = RunInterrupted()
    exc.partial_result = partial
    assert isinstance(exc, KeyboardInterrupt)
    assert exc._render_traceback_() == [
        "KeyboardInterrupt: experiment 'e' interrupted after 1 of 10 items; the partial result is in "
        "client.last_experiment_result (and exc.partial_result)"
    ]
    batch = BatchEvaluationResult(
        total_items_fetched=5,
        total_items_processed=4,
        total_items_failed=0,
        total_scores_created=0,
        total_composite_scores_created=0,
        total_evaluations_failed=0,
        evaluator_stats=[],
        resume_token=None,
        completed=False,
        duration_seconds=1.0,
        failed_item_ids=[],
        error_summary={},
        has_more_items=False,
        item_evaluations={},
    )
    exc.partial_result = batch
    assert "batch evaluation interrupted after 4 items" in str(exc)
    assert str(RunInterrupted()) == "interrupted"
