"""Public experiment types, mirroring ``langfuse.experiment``."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, Union

from langfuse_nb.sdk.experiments.evaluation import Evaluation
from langfuse_nb.sdk.experiments.results import ExperimentItemResult, ExperimentResult
from langfuse_nb.sdk.params import ScoreDataType

if TYPE_CHECKING:
    from langfuse_nb.sdk.datasets import DatasetItemClient


class LocalExperimentItem(TypedDict, total=False):
    """A local (non-dataset) experiment item; every key is optional except in practice ``input``."""

    input: Any
    expected_output: Any
    metadata: dict[str, Any] | None


ExperimentItem = Union[LocalExperimentItem, "DatasetItemClient"]  # noqa: UP007 (a forward reference)
ExperimentData = Union[list[LocalExperimentItem], list["DatasetItemClient"]]  # noqa: UP007


class TaskFunction(Protocol):
    """``task(*, item, **kwargs)``: returns the output to evaluate (sync or async)."""

    def __call__(self, *, item: ExperimentItem, **kwargs: Any) -> Any | Awaitable[Any]: ...


class EvaluatorFunction(Protocol):
    """``evaluator(*, input, output, expected_output, metadata, **kwargs)`` -> Evaluation(s) or dict(s)."""

    def __call__(
        self, *, input: Any, output: Any, expected_output: Any, metadata: dict[str, Any] | None, **kwargs: Any
    ) -> Any: ...


class RunEvaluatorFunction(Protocol):
    """``run_evaluator(*, item_results, **kwargs)`` -> Evaluation(s) or dict(s) for the whole run."""

    def __call__(self, *, item_results: list[ExperimentItemResult], **kwargs: Any) -> Any: ...


def create_evaluator_from_autoevals(autoevals_evaluator: Any, **kwargs: Any) -> EvaluatorFunction:
    """Wrap an ``autoevals`` scorer as an evaluator (its ``score`` becomes the value)."""

    def evaluator(*, input: Any, output: Any, expected_output: Any = None, **_: Any) -> Evaluation:
        scored = autoevals_evaluator(input=input, output=output, expected=expected_output, **kwargs)
        details = getattr(scored, "metadata", None) or {}
        comment = details.get("comment")
        return Evaluation(name=scored.name, value=scored.score, comment=comment, metadata=details)

    return evaluator


__all__ = [
    "Evaluation",
    "EvaluatorFunction",
    "ExperimentData",
    "ExperimentItem",
    "ExperimentItemResult",
    "ExperimentResult",
    "LocalExperimentItem",
    "RunEvaluatorFunction",
    "ScoreDataType",
    "TaskFunction",
    "create_evaluator_from_autoevals",
]
