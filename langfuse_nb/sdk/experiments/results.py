"""Result types of ``run_experiment``: one per item, one per run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from langfuse_nb.sdk.experiments.evaluation import Evaluation

if TYPE_CHECKING:
    import pandas

logger = logging.getLogger("langfuse_nb")


def item_field(item: Any, key: str) -> Any:
    """``input``/``expected_output``/``metadata``/... of a local dict item or a dataset item object."""
    if isinstance(item, dict):
        return item.get(key)
    return getattr(item, key, None)


class ExperimentItemResult:
    """What happened to one item: its output, its evaluations and its trace.

    ``error`` is set (and ``output`` is None) for items whose task failed; those are listed in
    ``ExperimentResult.failed_item_results``, not in ``item_results``. ``item_id`` is the dataset item
    id, or for local items the first 16 hex digits of sha256 of the serialized input.
    """

    __slots__ = (
        "item",
        "output",
        "evaluations",
        "trace_id",
        "dataset_run_id",
        "error",
        "item_id",
        "latency",
        "usage",
        "cost",
        "_trace_url",
        "_url_of",
        "_index",
    )

    def __init__(
        self,
        *,
        item: Any,
        output: Any,
        evaluations: list[Evaluation],
        trace_id: str | None,
        dataset_run_id: str | None,
        error: str | None = None,
        item_id: str | None = None,
    ) -> None:
        self.item = item
        self.output = output
        self.evaluations = evaluations
        self.trace_id = trace_id
        self.dataset_run_id = dataset_run_id
        self.error = error
        self.item_id = item_id
        self.latency: float | None = None  # seconds the task took for this item
        # token counts and cost (USD) summed over the item's trace, as its generations recorded them
        self.usage: dict[str, float] | None = None
        self.cost: dict[str, float] | None = None
        self._trace_url: str | None = None
        self._url_of: Callable[[str], str | None] | None = None  # resolves trace_url on first read
        self._index: int | None = None  # position in the input data, for ordered tables

    @property
    def trace_url(self) -> str | None:
        """Link to the item's trace in the UI, looked up when first read (None when unknown).

        Lazy because the link needs the project id from the server: a run whose results are never shown
        as HTML need not wait for that request (nor import the REST client for it).
        """
        if self._trace_url is None and self._url_of is not None and self.trace_id:
            url_of, self._url_of = self._url_of, None  # one attempt per item
            try:
                self._trace_url = url_of(self.trace_id)
            except Exception:  # a link is a nicety
                logger.debug("langfuse_nb: no trace url", exc_info=True)
        return self._trace_url

    @trace_url.setter
    def trace_url(self, value: str | None) -> None:
        self._trace_url = value

    def __repr__(self) -> str:
        state = f"error={self.error!r}" if self.error else f"output={_short(self.output)}"
        return (
            f"ExperimentItemResult(item_id={self.item_id!r}, {state}, "
            f"evaluations={self.evaluations!r}, trace_id={self.trace_id!r})"
        )


class ExperimentResult:
    """The outcome of a run: item results, run-level evaluations and the dataset run link.

    ``completed`` is False when the run was interrupted; ``item_results`` then holds the items that
    finished. Display with ``print(result.format())``, ``result.to_dataframe()``, or just ``result``
    in a notebook (``_repr_html_``).
    """

    def __init__(
        self,
        *,
        name: str,
        run_name: str,
        description: str | None,
        item_results: list[ExperimentItemResult],
        run_evaluations: list[Evaluation],
        dataset_run_id: str | None = None,
        dataset_run_url: str | None = None,
        failed_item_results: list[ExperimentItemResult] | None = None,
        completed: bool = True,
        planned_items: int | None = None,
    ) -> None:
        self.name = name
        self.run_name = run_name
        self.description = description
        self.item_results = item_results
        self.run_evaluations = run_evaluations
        self.dataset_run_id = dataset_run_id
        self.dataset_run_url = dataset_run_url
        self.failed_item_results = failed_item_results or []
        self.completed = completed
        self.planned_items = planned_items  # how many items the run was given (None: unknown)

    def all_item_results(self) -> list[ExperimentItemResult]:
        """Finished and failed items together, in the order of the input data."""
        merged = [*self.item_results, *self.failed_item_results]
        if all(result._index is not None for result in merged):
            merged.sort(key=lambda result: result._index)  # type: ignore[arg-type, return-value]
        return merged

    def __getitem__(self, key: str) -> Any:
        # the seed's dataset example reads ``result['dataset_run_url']``
        if key.startswith("_") or not hasattr(self, key):
            raise KeyError(key)
        return getattr(self, key)

    def __repr__(self) -> str:
        return (
            f"ExperimentResult(name={self.name!r}, run_name={self.run_name!r}, "
            f"items={len(self.item_results)}, failed={len(self.failed_item_results)}, "
            f"run_evaluations={self.run_evaluations!r}, dataset_run_id={self.dataset_run_id!r}, "
            f"completed={self.completed})"
        )

    def __str__(self) -> str:
        return self.format()

    def interrupt_summary(self) -> str:
        """The one line shown when this run was interrupted: how far it got, where the result is."""
        done = len(self.item_results) + len(self.failed_item_results)
        of = f" of {self.planned_items}" if self.planned_items is not None else ""
        failed = f" ({len(self.failed_item_results)} failed)" if self.failed_item_results else ""
        return (
            f"experiment {self.name!r} interrupted after {done}{of} items{failed}; the partial result "
            "is in client.last_experiment_result (and exc.partial_result)"
        )

    def format(self, *, include_item_results: bool = False) -> str:
        """A readable multi-line summary; with ``include_item_results`` also every item."""
        from langfuse_nb.sdk.experiments.format import format_experiment

        return format_experiment(self, include_item_results=include_item_results)

    def to_dataframe(self, *, include_comments: bool = True, include_failed: bool = True) -> pandas.DataFrame:
        """One row per item (see ``langfuse_nb.sdk.experiments.dataframe``); needs pandas."""
        from langfuse_nb.sdk.experiments.dataframe import experiment_dataframe

        return experiment_dataframe(self, include_comments=include_comments, include_failed=include_failed)

    def _repr_html_(self) -> str:
        from langfuse_nb.sdk.experiments.format import experiment_html

        return experiment_html(self)


def total_of(details: dict[str, float] | None) -> float | None:
    """The ``total`` of usage/cost details, else the sum of their entries; None when there are none."""
    if not details:
        return None
    return details["total"] if "total" in details else sum(details.values())


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
