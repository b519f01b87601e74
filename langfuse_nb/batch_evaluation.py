"""Public batch-evaluation types, mirroring ``langfuse.batch_evaluation``."""

from __future__ import annotations

import importlib
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

# API models ``langfuse.batch_evaluation`` also exposes (the items a mapper receives); loaded on first use.
_API_MODELS = frozenset({"ObservationsView", "TraceWithFullDetails"})


def __getattr__(name: str) -> Any:
    if name not in _API_MODELS:
        raise AttributeError(f"module 'langfuse_nb.batch_evaluation' has no attribute {name!r}")
    value = getattr(importlib.import_module("langfuse_nb.api"), name)
    globals()[name] = value
    return value
