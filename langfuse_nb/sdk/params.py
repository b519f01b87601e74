"""Every public parameter list, defined once; explicit ``__signature__``s are generated from it."""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Iterable
from typing import Any, Literal, TypeVar

SpanLevel = Literal["DEBUG", "DEFAULT", "WARNING", "ERROR"]
ScoreDataType = Literal["NUMERIC", "CATEGORICAL", "BOOLEAN"]
ObservationTypeLiteralNoEvent = Literal[
    "span", "generation", "agent", "tool", "chain", "retriever", "evaluator", "embedding", "guardrail"
]
ObservationTypeLiteral = Literal[
    "span", "generation", "event", "agent", "tool", "chain", "retriever", "evaluator", "embedding",
    "guardrail",
]
F = TypeVar("F", bound=Callable[..., Any])
_KW = inspect.Parameter.KEYWORD_ONLY


def _p(name: str, annotation: Any, default: Any = None) -> inspect.Parameter:
    return inspect.Parameter(name, _KW, default=default, annotation=annotation)


REQUIRED = inspect.Parameter.empty

# observation fields shared by every type
SPAN_FIELDS = (
    _p("input", Any | None),
    _p("output", Any | None),
    _p("metadata", Any | None),
    _p("version", str | None),
    _p("level", SpanLevel | None),
    _p("status_message", str | None),
)
# extra fields of generation-like types (generation, embedding)
GENERATION_FIELDS = (
    _p("completion_start_time", dt.datetime | None),
    _p("model", str | None),
    _p("model_parameters", dict[str, Any] | None),
    _p("usage_details", dict[str, int] | None),
    _p("cost_details", dict[str, float] | None),
    _p("prompt", Any | None),
)
TRACE_FIELDS = (
    _p("name", str | None),
    _p("user_id", str | None),
    _p("session_id", str | None),
    _p("version", str | None),
    _p("input", Any | None),
    _p("output", Any | None),
    _p("metadata", Any | None),
    _p("tags", list[str] | None),
    _p("public", bool | None),
)
SCORE_FIELDS = (
    _p("name", str, REQUIRED),
    _p("value", float | str, REQUIRED),
    _p("score_id", str | None),
    _p("data_type", ScoreDataType | None),
    _p("comment", str | None),
    _p("config_id", str | None),
)
SCORE_TARGET_FIELDS = (
    _p("session_id", str | None),
    _p("dataset_run_id", str | None),
    _p("trace_id", str | None),
    _p("observation_id", str | None),
)
TRACE_CONTEXT = _p("trace_context", dict[str, str] | None)
NAME = _p("name", str, REQUIRED)
OPTIONAL_NAME = _p("name", str | None)
AS_TYPE = _p("as_type", ObservationTypeLiteralNoEvent, "span")
END_ON_EXIT = _p("end_on_exit", bool | None)
TIMESTAMP = _p("timestamp", dt.datetime | None)
SCORE_METADATA = _p("metadata", Any | None)

SPAN_NAMES = frozenset(p.name for p in SPAN_FIELDS)
GENERATION_NAMES = SPAN_NAMES | {p.name for p in GENERATION_FIELDS}
TRACE_NAMES = frozenset(p.name for p in TRACE_FIELDS)


def signature(*groups: Iterable[inspect.Parameter] | inspect.Parameter, returns: Any = None,
              method: bool = True, positional: bool = False) -> Callable[[F], F]:
    """Give ``fn`` (which takes ``**params``) an explicit public signature (keyword-only by default)."""
    params = _dedupe(list(_flatten(groups)))
    if positional:
        params = [p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in params]
    if method:
        params.insert(0, inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD))

    def apply(fn: F) -> F:
        fn.__signature__ = inspect.Signature(params, return_annotation=returns)  # type: ignore[attr-defined]
        fn.__allowed_params__ = frozenset(p.name for p in params)  # type: ignore[attr-defined]
        return fn

    return apply


def _flatten(groups: Iterable[Any]) -> Iterable[inspect.Parameter]:
    for group in groups:
        if isinstance(group, inspect.Parameter):
            yield group
        else:
            yield from _flatten(group)


def _dedupe(params: list[inspect.Parameter]) -> list[inspect.Parameter]:
    seen: set[str] = set()
    out = []
    for p in params:
        if p.name not in seen:
            seen.add(p.name)
            out.append(p)
    return out


def check_params(params: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    """Reject unknown keyword arguments like a normal Python signature would."""
    unknown = params.keys() - allowed
    if unknown:
        raise TypeError(f"{where}() got an unexpected keyword argument {sorted(unknown)[0]!r}")
