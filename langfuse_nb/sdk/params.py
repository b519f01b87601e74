"""Every public parameter list, defined once as a ``TypedDict``.

Methods take ``**params: Unpack[SomeFields]``: mypy and pyright read the fields from the TypedDict, and
:func:`public_signature` derives the runtime ``__signature__`` (help(), Jupyter's Shift-Tab) and the set of
accepted keyword names from the same TypedDict, so the static and the runtime view cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ForwardRef, Literal, TypedDict, TypeVar, overload

if TYPE_CHECKING:
    from typing_extensions import Required

    from langfuse_nb.sdk.prompts.clients import ChatPromptClient, TextPromptClient

SpanLevel = Literal["DEBUG", "DEFAULT", "WARNING", "ERROR"]
ScoreDataType = Literal["NUMERIC", "CATEGORICAL", "BOOLEAN"]
ObservationTypeGenerationLike = Literal["generation", "embedding"]
ObservationTypeSpanLike = Literal["span", "agent", "tool", "chain", "retriever", "evaluator", "guardrail"]
ObservationTypeLiteralNoEvent = Literal[
    "span", "generation", "agent", "tool", "chain", "retriever", "evaluator", "embedding", "guardrail"
]
ObservationTypeLiteral = Literal[
    "span",
    "generation",
    "event",
    "agent",
    "tool",
    "chain",
    "retriever",
    "evaluator",
    "embedding",
    "guardrail",
]
F = TypeVar("F", bound=Callable[..., Any])


class TraceContext(TypedDict, total=False):
    """Attach a new observation to an existing trace (and, optionally, under a given parent span)."""

    trace_id: Required[str]
    parent_span_id: str


class SpanFields(TypedDict, total=False):
    """Fields every observation type has."""

    input: Any | None
    output: Any | None
    metadata: Any | None
    version: str | None
    level: SpanLevel | None
    status_message: str | None


class GenerationFields(SpanFields, total=False):
    """Extra fields of generation-like observations (generation, embedding)."""

    completion_start_time: dt.datetime | None
    model: str | None
    model_parameters: dict[str, Any] | None
    usage_details: dict[str, int] | None
    cost_details: dict[str, float] | None
    prompt: TextPromptClient | ChatPromptClient | None


class TraceFields(TypedDict, total=False):
    """Trace-level attributes (``update_trace`` / ``update_current_trace``)."""

    name: str | None
    user_id: str | None
    session_id: str | None
    version: str | None
    input: Any | None
    output: Any | None
    metadata: Any | None
    tags: list[str] | None
    public: bool | None


class ScoreFields(TypedDict, total=False):
    """A score of the current span or trace."""

    name: Required[str]
    value: Required[float | str]
    score_id: str | None
    data_type: ScoreDataType | None
    comment: str | None
    config_id: str | None


class ObservationScoreFields(ScoreFields, total=False):
    """A score given through an observation object (``span.score(...)``)."""

    timestamp: dt.datetime | None


class CreateScoreFields(ObservationScoreFields, total=False):
    """``create_score``: a score of a trace, observation, session or dataset run."""

    session_id: str | None
    dataset_run_id: str | None
    trace_id: str | None
    observation_id: str | None
    metadata: Any | None


def field_names(fields: type) -> frozenset[str]:
    """The keys of a TypedDict (inherited ones included)."""
    return frozenset(fields.__annotations__)


SPAN_NAMES = field_names(SpanFields)
GENERATION_NAMES = field_names(GenerationFields)
TRACE_NAMES = field_names(TraceFields)


# -- runtime signatures derived from the TypedDicts ----------------------------------------------
_KW = inspect.Parameter.KEYWORD_ONLY
_UNPACK = re.compile(r"^Unpack\[(.+)\]$")
_QUALIFIER = re.compile(r"^(Required|NotRequired)\[(.+)\]$")


@overload
def public_signature(fn: F, *, defaults: Mapping[str, Any] | None = None) -> F: ...
@overload
def public_signature(fn: None = None, *, defaults: Mapping[str, Any] | None = None) -> Callable[[F], F]: ...
def public_signature(
    fn: Callable[..., Any] | None = None, *, defaults: Mapping[str, Any] | None = None
) -> Any:
    """Replace ``**params: Unpack[Fields]`` of ``fn`` by ``Fields``' keyword-only parameters at runtime.

    Sets ``fn.__signature__`` (what help() and Shift-Tab show) and ``fn.__allowed_params__`` (the
    keyword names ``**params`` accepts, for :func:`check_params`). ``defaults`` overrides the implicit
    ``None`` default of some fields. Runs once, at import; calls pay nothing.
    """

    def apply(func: F) -> F:
        explicit, fields, returns = _split(func)
        extra = [] if fields is None else typed_dict_parameters(fields, defaults or {})
        params = [*explicit, *extra]
        func.__signature__ = inspect.Signature(params, return_annotation=returns)  # type: ignore[attr-defined]
        func.__allowed_params__ = frozenset(p.name for p in extra)  # type: ignore[attr-defined]
        return func

    return apply if fn is None else apply(fn)


def _split(fn: Callable[..., Any]) -> tuple[list[inspect.Parameter], type | None, Any]:
    """The explicit parameters (annotations resolved), the ``**`` TypedDict, and the return annotation."""
    namespace = getattr(fn, "__globals__", {})
    sig = inspect.signature(fn)
    explicit: list[inspect.Parameter] = []
    fields = None
    for param in sig.parameters.values():
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            fields = _unpacked(param.annotation, namespace)
        else:
            explicit.append(param.replace(annotation=_resolve(param.annotation, namespace)))
    return explicit, fields, _resolve(sig.return_annotation, namespace)


def _unpacked(annotation: Any, namespace: dict[str, Any]) -> type:
    match = _UNPACK.match(annotation) if isinstance(annotation, str) else None
    if match is None:
        raise TypeError(f"expected '**params: Unpack[SomeTypedDict]', got {annotation!r}")
    return eval(match.group(1), namespace)  # noqa: S307 - a name written in our own source


def typed_dict_parameters(fields: type, defaults: Mapping[str, Any]) -> list[inspect.Parameter]:
    """One keyword-only parameter per field (default None unless required or overridden)."""
    namespace = vars(sys.modules[fields.__module__])
    params = []
    for name, raw in fields.__annotations__.items():
        text = raw.__forward_arg__ if isinstance(raw, ForwardRef) else raw
        required = False
        if isinstance(text, str):
            qualified = _QUALIFIER.match(text)
            if qualified:
                required, text = qualified.group(1) == "Required", qualified.group(2)
        default = inspect.Parameter.empty if required else defaults.get(name)
        params.append(inspect.Parameter(name, _KW, default=default, annotation=_resolve(text, namespace)))
    return params


def _resolve(annotation: Any, namespace: Mapping[str, Any]) -> Any:
    """The annotation object when its names exist at runtime, else the string as written."""
    if not isinstance(annotation, str):
        return annotation
    try:
        return eval(annotation, dict(namespace))  # noqa: S307 - annotations of our own source
    except Exception:  # a name imported only for type checking (e.g. a forward reference)
        return annotation


def check_params(params: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    """Reject unknown keyword arguments like a normal Python signature would."""
    unknown = params.keys() - allowed
    if unknown:
        raise TypeError(f"{where}() got an unexpected keyword argument {sorted(unknown)[0]!r}")
