"""Types of ``run_batched_evaluation``: mapper output, statistics, resume token and result."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langfuse_nb.sdk.experiments.evaluation import Evaluation

if TYPE_CHECKING:
    import pandas


class EvaluatorInputs:
    """What a mapper returns: the ``input``, ``output``, ``expected_output`` and ``metadata`` to evaluate."""

    __slots__ = ("input", "output", "expected_output", "metadata")

    def __init__(
        self,
        *,
        input: Any,
        output: Any,
        expected_output: Any = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.input = input
        self.output = output
        self.expected_output = expected_output
        self.metadata = metadata

    def __repr__(self) -> str:
        return (
            f"EvaluatorInputs(input={self.input!r}, output={self.output!r}, "
            f"expected_output={self.expected_output!r}, metadata={self.metadata!r})"
        )


class EvaluatorStats:
    """Per-evaluator counters of one batch evaluation."""

    __slots__ = ("name", "total_runs", "successful_runs", "failed_runs", "total_scores_created")

    def __init__(
        self,
        *,
        name: str,
        total_runs: int = 0,
        successful_runs: int = 0,
        failed_runs: int = 0,
        total_scores_created: int = 0,
    ) -> None:
        self.name = name
        self.total_runs = total_runs
        self.successful_runs = successful_runs
        self.failed_runs = failed_runs
        self.total_scores_created = total_scores_created

    def __repr__(self) -> str:
        return (
            f"EvaluatorStats(name={self.name!r}, total_runs={self.total_runs}, "
            f"successful_runs={self.successful_runs}, failed_runs={self.failed_runs}, "
            f"total_scores_created={self.total_scores_created})"
        )


class BatchEvaluationResumeToken:
    """Where an incomplete batch evaluation stopped; pass it as ``resume_from=`` to continue.

    Resuming filters on the item timestamp (``timestamp`` for traces, ``start_time`` for
    observations) from ``last_processed_timestamp`` on, in the direction the server listed items
    (``direction``: "desc" newest first, as Langfuse lists by default, or "asc"), and skips the
    items at exactly that timestamp that were already processed (``boundary_ids``).
    """

    __slots__ = (
        "scope",
        "filter",
        "last_processed_timestamp",
        "last_processed_id",
        "items_processed",
        "direction",
        "boundary_ids",
    )

    def __init__(
        self,
        *,
        scope: str,
        filter: str | None,
        last_processed_timestamp: str,
        last_processed_id: str,
        items_processed: int,
        direction: str = "desc",
        boundary_ids: list[str] | None = None,
    ) -> None:
        self.scope = scope
        self.filter = filter
        self.last_processed_timestamp = last_processed_timestamp
        self.last_processed_id = last_processed_id
        self.items_processed = items_processed
        self.direction = direction
        self.boundary_ids = boundary_ids if boundary_ids is not None else [last_processed_id]

    def __repr__(self) -> str:
        return (
            f"BatchEvaluationResumeToken(scope={self.scope!r}, last_processed_timestamp="
            f"{self.last_processed_timestamp!r}, last_processed_id={self.last_processed_id!r}, "
            f"items_processed={self.items_processed}, direction={self.direction!r})"
        )


class ItemMetrics:
    """Latency (seconds), token usage and cost (USD) of one evaluated trace or observation, as the
    server reported them; each is None when the server did not."""

    __slots__ = ("latency", "usage", "cost")

    def __init__(
        self, latency: float | None, usage: dict[str, float] | None, cost: dict[str, float] | None
    ) -> None:
        self.latency, self.usage, self.cost = latency, usage, cost

    @classmethod
    def of(cls, item: Any) -> ItemMetrics:
        """From a trace or observation of the public API (fields missing on older servers are None)."""
        latency = getattr(item, "latency", None)
        usage = _numbers(getattr(item, "usage_details", None))
        cost = _numbers(getattr(item, "cost_details", None))
        total = getattr(item, "calculated_total_cost", None)
        if total is None:
            total = getattr(item, "total_cost", None)
        if not cost and isinstance(total, int | float) and total > 0:
            cost = {"total": float(total)}
        if not isinstance(latency, int | float) or latency < 0:  # -1: not computed
            latency = None
        return cls(None if latency is None else float(latency), usage, cost)

    def __repr__(self) -> str:
        return f"ItemMetrics(latency={self.latency!r}, usage={self.usage!r}, cost={self.cost!r})"


def _numbers(details: Any) -> dict[str, float] | None:
    if not isinstance(details, dict):
        return None
    found = {
        key: float(value)
        for key, value in details.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    return found or None


class BatchEvaluationResult:
    """Counts, per-evaluator stats, per-item evaluations and (when incomplete) a resume token."""

    def __init__(
        self,
        *,
        total_items_fetched: int,
        total_items_processed: int,
        total_items_failed: int,
        total_scores_created: int,
        total_composite_scores_created: int,
        total_evaluations_failed: int,
        evaluator_stats: list[EvaluatorStats],
        resume_token: BatchEvaluationResumeToken | None,
        completed: bool,
        duration_seconds: float,
        failed_item_ids: list[str],
        error_summary: dict[str, int],
        has_more_items: bool,
        item_evaluations: dict[str, list[Evaluation]],
        item_errors: dict[str, str] | None = None,
        fetch_error: str | None = None,
        item_metrics: dict[str, ItemMetrics] | None = None,
    ) -> None:
        self.total_items_fetched = total_items_fetched
        self.total_items_processed = total_items_processed
        self.total_items_failed = total_items_failed
        self.total_scores_created = total_scores_created
        self.total_composite_scores_created = total_composite_scores_created
        self.total_evaluations_failed = total_evaluations_failed
        self.evaluator_stats = evaluator_stats
        self.resume_token = resume_token
        self.completed = completed
        self.duration_seconds = duration_seconds
        self.failed_item_ids = failed_item_ids
        self.error_summary = error_summary
        self.has_more_items = has_more_items
        self.item_evaluations = item_evaluations
        self.item_errors = item_errors or {}  # failed item id -> "Type: message"
        self.fetch_error = fetch_error  # why fetching stopped early, when it did
        self.item_metrics = item_metrics or {}  # evaluated item id -> latency, tokens, cost

    def __str__(self) -> str:
        from langfuse_nb.sdk.experiments.format import format_batch

        return format_batch(self)

    def interrupt_summary(self) -> str:
        """The one line shown when this run was interrupted: how far it got, where the result is."""
        return (
            f"batch evaluation interrupted after {self.total_items_processed} items; the partial result "
            "(with a resume_token for resume_from=) is in client.last_batch_evaluation_result "
            "(and exc.partial_result)"
        )

    def __repr__(self) -> str:
        return (
            f"BatchEvaluationResult(completed={self.completed}, processed={self.total_items_processed}, "
            f"failed={self.total_items_failed}, scores={self.total_scores_created}, "
            f"composite_scores={self.total_composite_scores_created})"
        )

    def to_dataframe(
        self,
        *,
        include_comments: bool = True,
        include_failed: bool = True,
        include_metrics: bool | None = None,
    ) -> pandas.DataFrame:
        """One row per evaluated item, one column per evaluation name; needs pandas.

        ``include_metrics``: add ``latency``, ``total_tokens`` and ``total_cost`` columns (None: when the
        server reported tokens or cost for any item).
        """
        from langfuse_nb.sdk.experiments.dataframe import batch_dataframe

        return batch_dataframe(
            self,
            include_comments=include_comments,
            include_failed=include_failed,
            include_metrics=include_metrics,
        )

    def has_usage_or_cost(self) -> bool:
        return any(m.usage or m.cost for m in self.item_metrics.values())

    def _repr_html_(self) -> str:
        from langfuse_nb.sdk.experiments.format import batch_html

        return batch_html(self)
