"""compare_experiments: per-item rows, score deltas, DataFrame and HTML (golden)."""

from __future__ import annotations

from langfuse_nb.experiment import Evaluation
from langfuse_nb.notebook import compare_experiments
from langfuse_nb.notebook.compare import comparison_rows
from langfuse_nb.sdk.experiments.results import ExperimentItemResult, ExperimentResult


def run(run_name: str, outputs: dict[str, str], scores: dict[str, float]) -> ExperimentResult:
    items = [
        ExperimentItemResult(
            item={"input": question, "expected_output": "4"},
            output=answer,
            evaluations=[
                Evaluation(name="exact", value=scores[question]),
                Evaluation(name="tone", value="ok"),
            ],
            trace_id=None,
            dataset_run_id=None,
            item_id=f"id-{question}",
        )
        for question, answer in outputs.items()
    ]
    return ExperimentResult(
        name="calc", run_name=run_name, description=None, item_results=items, run_evaluations=[]
    )


A = run("v1", {"2+2": "4", "1+3": "4"}, {"2+2": 1.0, "1+3": 1.0})
B = run("v2", {"2+2": "4", "9-5": "5"}, {"2+2": 1.0, "9-5": 0.0})


def test_rows_match_items_and_compute_deltas() -> None:
    rows, names = comparison_rows(A, B)
    assert names == ["exact", "tone"]
    assert [r["item"] for r in rows] == ["id-2+2", "id-1+3", "id-9-5"]
    assert rows[0]["exact_delta"] == 0.0 and rows[0]["tone_delta"] is None  # categorical: no delta
    assert rows[1]["output_b"] is None and rows[1]["exact_delta"] is None  # only in run A


def test_dataframe_and_html(golden) -> None:
    comparison = compare_experiments(A, B)
    frame = comparison.to_dataframe()
    assert list(frame.index) == ["id-2+2", "id-1+3", "id-9-5"]
    assert frame.attrs["runs"] == ("v1", "v2")
    assert comparison.mean_deltas() == {"exact": 0.0}
    golden("comparison", comparison._repr_html_())
    assert "ExperimentComparison(a='v1', b='v2', items=3" in repr(comparison)


def test_failed_items_show_their_error_instead_of_a_blank() -> None:
    failed = ExperimentItemResult(
        item={"input": "9-5", "expected_output": "4"},
        output=None,
        evaluations=[],
        trace_id=None,
        dataset_run_id=None,
        error="ValueError: no <idea>",
        item_id="id-9-5",
    )
    broken = ExperimentResult(
        name="calc",
        run_name="v3",
        description=None,
        item_results=[],
        run_evaluations=[],
        failed_item_results=[failed],
    )
    comparison = compare_experiments(B, broken)
    row = next(r for r in comparison.rows if r["item"] == "id-9-5")
    assert row["output_a"] == "5" and row["error_a"] is None and row["error_b"] == "ValueError: no <idea>"
    assert "error_b" in comparison.to_dataframe().columns
    assert "ValueError: no &lt;idea&gt;" in comparison._repr_html_()
