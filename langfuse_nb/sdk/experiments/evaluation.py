"""Evaluation results and how user callbacks (tasks, evaluators, mappers) are called and normalised."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from langfuse_nb.sdk.aio import maybe_await

logger = logging.getLogger("langfuse_nb")

# Keys a dict returned by an evaluator may carry (DEVIATIONS F3), snake_case and the API's camelCase.
_DICT_KEYS = {
    "name": "name",
    "value": "value",
    "comment": "comment",
    "metadata": "metadata",
    "data_type": "data_type",
    "dataType": "data_type",
    "config_id": "config_id",
    "configId": "config_id",
}


class Evaluation:
    """One evaluation result (a future score): ``name``, ``value`` and optional details.

    ``value`` is a number, string or bool; ``data_type`` is ``NUMERIC``, ``CATEGORICAL`` or ``BOOLEAN``
    (the server infers it when omitted). All arguments are keyword-only.
    """

    __slots__ = ("name", "value", "comment", "metadata", "data_type", "config_id")

    def __init__(
        self,
        *,
        name: str,
        value: int | float | str | bool | None,
        comment: str | None = None,
        metadata: dict[str, Any] | None = None,
        data_type: str | None = None,
        config_id: str | None = None,
    ) -> None:
        self.name = name
        self.value = value
        self.comment = comment
        self.metadata = metadata
        self.data_type = data_type
        self.config_id = config_id

    def __repr__(self) -> str:
        extras = "".join(
            f", {key}={getattr(self, key)!r}"
            for key in ("comment", "metadata", "data_type", "config_id")
            if getattr(self, key) is not None
        )
        return f"Evaluation(name={self.name!r}, value={self.value!r}{extras})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Evaluation):
            return NotImplemented
        return all(getattr(self, key) == getattr(other, key) for key in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the reference's plain class

    def to_dict(self) -> dict[str, Any]:
        """The non-empty fields as a dict (the shape evaluators may also return)."""
        return {key: getattr(self, key) for key in self.__slots__ if getattr(self, key) is not None}

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Evaluation:
        """Build from a dict with at least ``name`` and ``value`` (DEVIATIONS F3)."""
        if "name" not in data or "value" not in data:
            raise ValueError(f"an evaluation dict needs 'name' and 'value', got keys {sorted(data)}")
        fields = {_DICT_KEYS[key]: value for key, value in data.items() if key in _DICT_KEYS}
        return cls(**fields)


def to_evaluations(result: Any) -> list[Evaluation]:
    """Normalise what an evaluator returned: an Evaluation, a dict, a list of either, or None."""
    if result is None:
        return []
    if isinstance(result, (Evaluation, Mapping)):
        return [_one(result)]
    if isinstance(result, Iterable) and not isinstance(result, (str, bytes)):
        return [_one(entry) for entry in result if entry is not None]
    raise TypeError(f"an evaluator must return an Evaluation, a dict or a list, not {type(result).__name__}")


def _one(entry: Any) -> Evaluation:
    if isinstance(entry, Evaluation):
        return entry
    if isinstance(entry, Mapping):
        return Evaluation.from_mapping(entry)
    if hasattr(entry, "name") and hasattr(entry, "value"):  # e.g. the reference SDK's Evaluation
        return Evaluation(
            name=entry.name,
            value=entry.value,
            comment=getattr(entry, "comment", None),
            metadata=getattr(entry, "metadata", None),
            data_type=getattr(entry, "data_type", None),
            config_id=getattr(entry, "config_id", None),
        )
    raise TypeError(f"not an evaluation: {type(entry).__name__}")


def callable_name(fn: Any) -> str:
    """A readable name for a user callback (used in stats and logs)."""
    return getattr(fn, "__name__", None) or type(fn).__name__ or "unknown_evaluator"


class UserCallable:
    """A user callback plus which keyword arguments it accepts, resolved once per run.

    Callbacks that take ``**kwargs`` get every argument; others only the ones they name, so
    ``def evaluator(*, output, expected_output)`` works as well as the documented full signature.
    """

    __slots__ = ("fn", "name", "_accepted", "_positional_item")

    def __init__(self, fn: Callable[..., Any], *, item_may_be_positional: bool = False) -> None:
        self.fn = fn
        self.name = callable_name(fn)
        self._accepted, self._positional_item = _accepted_keywords(fn, item_may_be_positional)

    def call(self, **kwargs: Any) -> Any:
        if self._accepted is not None:
            kwargs = {key: value for key, value in kwargs.items() if key in self._accepted}
        if self._positional_item and "item" in kwargs:
            return self.fn(kwargs.pop("item"), **kwargs)
        return self.fn(**kwargs)

    def direct(self) -> Callable[..., Any]:
        """What to call with keyword arguments: the function itself when it takes every argument as
        given (``**kwargs``, nothing positional), else ``call``, which picks what it accepts."""
        return self.fn if self._accepted is None and not self._positional_item else self.call

    async def acall(self, **kwargs: Any) -> Any:
        return await maybe_await(self.call(**kwargs))


def _accepted_keywords(
    fn: Callable[..., Any], item_may_be_positional: bool
) -> tuple[frozenset[str] | None, bool]:
    """(names it accepts or None for "anything", whether ``item`` must be passed positionally)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None, False
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None, False
    names = frozenset(p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
    if "item" in names or not item_may_be_positional:
        return names, False
    # a mapper written as ``def mapper(trace): ...`` (the seed's own example) gets the item positionally
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if positional:
        return names | {"item"}, True
    return names, False


async def run_evaluator(evaluator: UserCallable, **kwargs: Any) -> list[Evaluation]:
    """Call an evaluator (sync or async) and normalise its result; errors propagate."""
    return to_evaluations(await evaluator.acall(**kwargs))
