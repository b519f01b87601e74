"""pandas views of results. pandas is imported here only, when a DataFrame is asked for.

Experiment columns: ``item_id, input, expected_output, output, <evaluation>..., <evaluation>_comment...,
latency, total_tokens, total_cost, trace_id, error`` (latency in seconds; tokens and cost in USD summed
over the item's trace as its generations recorded them, None when none did); one row per item in input
order (failed items too, with ``error`` set, unless ``include_failed=False``). A ``<name>_comment``
column exists only for evaluations that have at least one comment (``include_comments=False`` drops
them all). An evaluation whose name collides with a fixed column gets the suffix ``_score``. Run-level
evaluations and run identity are in ``df.attrs``.

Batch evaluation columns: ``item_id, <evaluation>..., <evaluation>_comment..., latency, total_tokens,
total_cost, error``; the three metric columns (as the server reported them for each trace or observation)
appear when any item has tokens or cost, or with ``include_metrics=True``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from langfuse_nb.sdk.experiments.evaluation import Evaluation
from langfuse_nb.sdk.experiments.results import item_field, total_of

if TYPE_CHECKING:
    import pandas

    from langfuse_nb.sdk.experiments.batch_results import BatchEvaluationResult
    from langfuse_nb.sdk.experiments.results import ExperimentResult

_METRICS = ("latency", "total_tokens", "total_cost")
_EXPERIMENT_FIXED = ("item_id", "input", "expected_output", "output", *_METRICS, "trace_id", "error")
_BATCH_FIXED = ("item_id", *_METRICS, "error")


class _EvaluationColumns:
    """Collects evaluation values (and comments) column-wise while rows are appended."""

    def __init__(self, reserved: Iterable[str]) -> None:
        self._reserved = set(reserved)
        self.values: dict[str, list[Any]] = {}
        self.comments: dict[str, list[Any]] = {}
        self._rows = 0

    def add_row(self, evaluations: Iterable[Evaluation]) -> None:
        row = {self._column_name(e.name): e for e in evaluations}  # last one wins on duplicate names
        for column in row:
            if column not in self.values:
                self.values[column] = [None] * self._rows
                self.comments[column] = [None] * self._rows
        for column, values in self.values.items():
            evaluation = row.get(column)
            values.append(None if evaluation is None else evaluation.value)
            self.comments[column].append(None if evaluation is None else evaluation.comment)
        self._rows += 1

    def _column_name(self, name: str) -> str:
        return f"{name}_score" if name in self._reserved else name

    def finish(self, include_comments: bool) -> dict[str, list[Any]]:
        columns = dict(self.values)
        if include_comments:
            for name, comments in self.comments.items():
                if any(comment is not None for comment in comments):
                    columns[f"{name}_comment"] = comments
        return columns


def experiment_dataframe(
    result: ExperimentResult, *, include_comments: bool = True, include_failed: bool = True
) -> pandas.DataFrame:
    import pandas as pd

    rows = result.all_item_results() if include_failed else result.item_results
    fixed: dict[str, list[Any]] = {name: [] for name in _EXPERIMENT_FIXED}
    evaluations = _EvaluationColumns(_EXPERIMENT_FIXED)
    for row in rows:
        fixed["item_id"].append(row.item_id)
        fixed["input"].append(item_field(row.item, "input"))
        fixed["expected_output"].append(item_field(row.item, "expected_output"))
        fixed["output"].append(row.output)
        fixed["latency"].append(row.latency)
        fixed["total_tokens"].append(total_of(row.usage))
        fixed["total_cost"].append(total_of(row.cost))
        fixed["trace_id"].append(row.trace_id)
        fixed["error"].append(row.error)
        evaluations.add_row(row.evaluations)
    head = {name: fixed[name] for name in ("item_id", "input", "expected_output", "output")}
    tail = {name: fixed[name] for name in (*_METRICS, "trace_id", "error")}
    frame = pd.DataFrame({**head, **evaluations.finish(include_comments), **tail})
    frame.attrs.update(_experiment_attrs(result))
    return frame


def _experiment_attrs(result: ExperimentResult) -> dict[str, Any]:
    return {
        "name": result.name,
        "run_name": result.run_name,
        "description": result.description,
        "dataset_run_id": result.dataset_run_id,
        "dataset_run_url": result.dataset_run_url,
        "completed": result.completed,
        "run_evaluations": {evaluation.name: evaluation.value for evaluation in result.run_evaluations},
        "run_evaluation_comments": {
            evaluation.name: evaluation.comment for evaluation in result.run_evaluations if evaluation.comment
        },
    }


def batch_dataframe(
    result: BatchEvaluationResult,
    *,
    include_comments: bool = True,
    include_failed: bool = True,
    include_metrics: bool | None = None,
) -> pandas.DataFrame:
    import pandas as pd

    item_ids: list[str] = []
    errors: list[str | None] = []
    metrics: dict[str, list[Any]] = {name: [] for name in _METRICS}
    evaluations = _EvaluationColumns(_BATCH_FIXED)
    for item_id, item_evaluations in result.item_evaluations.items():
        item_ids.append(item_id)
        errors.append(None)
        _add_metrics(metrics, result.item_metrics.get(item_id))
        evaluations.add_row(item_evaluations)
    if include_failed:
        for item_id in result.failed_item_ids:
            item_ids.append(item_id)
            errors.append(result.item_errors.get(item_id, "failed"))
            _add_metrics(metrics, None)
            evaluations.add_row(())
    if include_metrics is None:
        include_metrics = result.has_usage_or_cost()
    extra = metrics if include_metrics else {}
    columns = {"item_id": item_ids, **evaluations.finish(include_comments), **extra, "error": errors}
    frame = pd.DataFrame(columns)
    frame.attrs.update({"completed": result.completed, "duration_seconds": result.duration_seconds})
    return frame


def _add_metrics(columns: dict[str, list[Any]], metrics: Any) -> None:
    columns["latency"].append(metrics.latency if metrics else None)
    columns["total_tokens"].append(total_of(metrics.usage) if metrics else None)
    columns["total_cost"].append(total_of(metrics.cost) if metrics else None)
