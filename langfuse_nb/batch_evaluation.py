"""Public batch-evaluation types, mirroring ``langfuse.batch_evaluation``."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol

from langfuse_nb.experiment import EvaluatorFunction
from langfuse_nb.sdk.experiments.batch import BatchEvaluationRunner
from langfuse_nb.sdk.experiments.batch_results import (
    BatchEvaluationResult,
    BatchEvaluationResumeToken,
    EvaluatorInputs,
    EvaluatorStats,
)
from langfuse_nb.sdk.experiments.evaluation import Evaluation


class MapperFunction(Protocol):
    """``mapper(*, item)``: a trace or observation -> ``EvaluatorInputs`` (sync or async)."""

    def __call__(self, *, item: Any, **kwargs: Any) -> EvaluatorInputs | Awaitable[EvaluatorInputs]: ...


class CompositeEvaluatorFunction(Protocol):
    """``composite(*, input, output, expected_output, metadata, evaluations, **kwargs)`` -> Evaluation(s)."""

    def __call__(
        self,
        *,
        input: Any = None,
        output: Any = None,
        expected_output: Any = None,
        metadata: dict[str, Any] | None = None,
        evaluations: list[Evaluation],
        **kwargs: Any,
    ) -> Any: ...


__all__ = [
    "BatchEvaluationResult",
    "BatchEvaluationResumeToken",
    "BatchEvaluationRunner",
    "CompositeEvaluatorFunction",
    "Evaluation",
    "EvaluatorFunction",
    "EvaluatorInputs",
    "EvaluatorStats",
    "MapperFunction",
]
