"""One I/O-free description of a REST request, shared by the sync and async clients.

Every endpoint method builds a `Request` (method, path, query, JSON body, response type); the executors in
`_http` send it. Everything here is pure and tested with tables.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypedDict, TypeVar

from pydantic import BaseModel, TypeAdapter

from langfuse_nb.wire.models._base import WireModel, serialize_datetime

from ._url import path as path
from ._url import scalar as _scalar

T = TypeVar("T")


class RequestOptions(TypedDict, total=False):
    """Per-call options, as accepted by every endpoint method's ``request_options``."""

    timeout_in_seconds: float
    max_retries: int
    additional_headers: dict[str, Any]
    additional_query_parameters: dict[str, Any]
    additional_body_parameters: dict[str, Any]


class _Omit:
    """Marks an argument the caller did not pass: left out of the body (an explicit None is sent as null)."""

    def __repr__(self) -> str:
        return "OMIT"


OMIT: Any = _Omit()


@dataclass(frozen=True)
class Request(Generic[T]):
    """What to send and how to read the answer. ``response=None`` means the body is ignored."""

    method: str
    path: str
    query: Mapping[str, Any] = field(default_factory=dict)
    body: Any = OMIT
    response: Any = None
    options: RequestOptions | None = None


def query_params(query: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Query pairs: None left out, sequences as repeated keys, mappings as ``key[sub]``, datetimes ISO."""
    pairs: list[tuple[str, str]] = []
    for key, value in query.items():
        pairs.extend(_query_pairs(key, value))
    return pairs


def _query_pairs(key: str, value: Any) -> list[tuple[str, str]]:
    if value is None or value is OMIT:
        return []
    if isinstance(value, BaseModel):
        value = to_jsonable(value)
    if isinstance(value, Mapping):
        return [pair for sub, item in value.items() for pair in _query_pairs(f"{key}[{sub}]", item)]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [pair for item in value for pair in _query_pairs(key, item)]
    return [(key, _query_text(value))]


def _query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return serialize_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(_scalar(value))


def to_jsonable(value: Any) -> Any:
    """A JSON-ready copy of ``value``: models by alias (set fields + non-None defaults), datetimes ISO."""
    if isinstance(value, WireModel):
        return value.to_wire()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, Mapping):
        return {str(_scalar(k)): to_jsonable(v) for k, v in value.items() if v is not OMIT}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    return _json_scalar(value)


def _json_scalar(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return serialize_datetime(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def as_body(value: Any, model: Any) -> Any:
    """A request body from a model instance or a plain dict.

    A dict is validated by ``model`` (so snake_case keys work too) and sent with exactly the keys it had,
    like upstream sends dicts; a model instance also sends its non-None defaults (e.g. ``type``).
    """
    if not isinstance(value, (Mapping, BaseModel)) and callable(getattr(value, "dict", None)):
        value = value.dict()  # e.g. a pydantic-v1 model of the reference SDK
    if isinstance(value, Mapping):
        parsed = adapter(model).validate_python(dict(value))
        return parsed.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return to_jsonable(value)


@functools.cache
def _adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def adapter(model: Any) -> TypeAdapter[Any]:
    """A cached `TypeAdapter` (models and unions alike)."""
    try:
        return _adapter(model)
    except TypeError:  # an unhashable annotation: build it each time
        return TypeAdapter(model)


def parse(model: Any, data: Any) -> Any:
    """Validate decoded JSON into ``model`` (a class or a union)."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model.model_validate(data)
    return adapter(model).validate_python(data)


__all__ = [
    "OMIT",
    "Request",
    "RequestOptions",
    "adapter",
    "as_body",
    "parse",
    "path",
    "query_params",
    "to_jsonable",
]
