"""langfuse_nb: Langfuse-compatible LLM observability, native to Jupyter.

The public names mirror the Langfuse Python SDK v3. They are resolved lazily so that
``import langfuse_nb`` stays cheap (no OpenTelemetry, pandas, ipywidgets or IPython).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it (one table instead of eager imports)
_EXPORTS: dict[str, str] = {
    "Langfuse": "langfuse_nb.sdk.client",
    "get_client": "langfuse_nb.sdk.registry",
    "observe": "langfuse_nb.sdk.observe",
    "propagate_attributes": "langfuse_nb.sdk.context",
    "ObservationTypeLiteral": "langfuse_nb.sdk.observations",
    "LangfuseSpan": "langfuse_nb.sdk.observations",
    "LangfuseGeneration": "langfuse_nb.sdk.observations",
    "LangfuseEvent": "langfuse_nb.sdk.observations",
    "LangfuseAgent": "langfuse_nb.sdk.observations",
    "LangfuseTool": "langfuse_nb.sdk.observations",
    "LangfuseChain": "langfuse_nb.sdk.observations",
    "LangfuseEmbedding": "langfuse_nb.sdk.observations",
    "LangfuseEvaluator": "langfuse_nb.sdk.observations",
    "LangfuseRetriever": "langfuse_nb.sdk.observations",
    "LangfuseGuardrail": "langfuse_nb.sdk.observations",
    "LangfuseOtelSpanAttributes": "langfuse_nb.wire.attributes",
    "Evaluation": "langfuse_nb.experiment",
    "EvaluatorInputs": "langfuse_nb.batch_evaluation",
    "MapperFunction": "langfuse_nb.batch_evaluation",
    "CompositeEvaluatorFunction": "langfuse_nb.batch_evaluation",
    "EvaluatorStats": "langfuse_nb.batch_evaluation",
    "BatchEvaluationResumeToken": "langfuse_nb.batch_evaluation",
    "BatchEvaluationResult": "langfuse_nb.batch_evaluation",
}
_SUBMODULES = {"experiment", "api", "batch_evaluation", "model", "media", "widgets"}

__all__ = [
    "Langfuse",
    "get_client",
    "observe",
    "propagate_attributes",
    "ObservationTypeLiteral",
    "LangfuseSpan",
    "LangfuseGeneration",
    "LangfuseEvent",
    "LangfuseOtelSpanAttributes",
    "LangfuseAgent",
    "LangfuseTool",
    "LangfuseChain",
    "LangfuseEmbedding",
    "LangfuseEvaluator",
    "LangfuseRetriever",
    "LangfuseGuardrail",
    "Evaluation",
    "EvaluatorInputs",
    "MapperFunction",
    "CompositeEvaluatorFunction",
    "EvaluatorStats",
    "BatchEvaluationResumeToken",
    "BatchEvaluationResult",
    "experiment",
    "api",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"langfuse_nb.{name}")
    else:
        raise AttributeError(f"module 'langfuse_nb' has no attribute {name!r}")
    globals()[name] = value  # resolve once; later lookups are plain dict hits
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def load_ipython_extension(ipython: Any) -> None:
    """Entry point of ``%load_ext langfuse_nb``."""
    from langfuse_nb.notebook.extension import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Entry point of ``%unload_ext langfuse_nb``."""
    from langfuse_nb.notebook.extension import unload_ipython_extension as unload

    unload(ipython)


if TYPE_CHECKING:  # static checkers and IDEs see the real names
    from langfuse_nb import api as api
    from langfuse_nb import experiment as experiment
    from langfuse_nb.batch_evaluation import (
        BatchEvaluationResult,
        BatchEvaluationResumeToken,
        CompositeEvaluatorFunction,
        EvaluatorInputs,
        EvaluatorStats,
        MapperFunction,
    )
    from langfuse_nb.experiment import Evaluation
    from langfuse_nb.sdk.client import Langfuse
    from langfuse_nb.sdk.context import propagate_attributes
    from langfuse_nb.sdk.observations import (
        LangfuseAgent,
        LangfuseChain,
        LangfuseEmbedding,
        LangfuseEvaluator,
        LangfuseEvent,
        LangfuseGeneration,
        LangfuseGuardrail,
        LangfuseRetriever,
        LangfuseSpan,
        LangfuseTool,
        ObservationTypeLiteral,
    )
    from langfuse_nb.sdk.observe import observe
    from langfuse_nb.sdk.registry import get_client
    from langfuse_nb.wire.attributes import LangfuseOtelSpanAttributes
