"""Base classes and helpers shared by every wire model.

Models follow the Langfuse public API: snake_case attributes, camelCase JSON (aliases, either accepted on
input), unknown fields kept, datetimes parsed. Building the validators is deferred to first use so importing
the models stays cheap.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel


def serialize_datetime(value: dt.datetime) -> str:
    """ISO-8601 with ``Z`` for UTC, ``+hh:mm`` otherwise; a naive value is taken as local time."""
    if value.tzinfo is None:
        value = value.astimezone()  # interpret naive values in the local zone, like upstream
    if value.utcoffset() == dt.timedelta(0):
        return value.replace(tzinfo=None).isoformat() + "Z"
    return value.isoformat()


# A datetime field that serializes to JSON the way the Langfuse SDK does.
Datetime = Annotated[dt.datetime, PlainSerializer(serialize_datetime, when_used="json")]


class WireModel(BaseModel):
    """A Langfuse API object: camelCase on the wire, extra fields allowed, immutable like upstream's."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        alias_generator=to_camel,
        frozen=True,
        defer_build=True,
        protected_namespaces=(),  # fields such as model_parameters are legitimate here
    )

    def to_wire(self) -> dict[str, Any]:
        """JSON-ready dict by alias: every explicitly set field (even None) plus every non-None default."""
        return _union(
            self.model_dump(mode="json", by_alias=True, exclude_unset=True),
            self.model_dump(mode="json", by_alias=True, exclude_none=True),
        )

    def dict(self, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        """Upstream-compatible ``.dict()``: same selection as `to_wire`, Python values."""
        return _union(
            self.model_dump(by_alias=True, exclude_unset=True, **kwargs),
            self.model_dump(by_alias=True, exclude_none=True, **kwargs),
        )

    def json(self, **kwargs: Any) -> str:  # type: ignore[override]
        """Upstream-compatible ``.json()``: set fields only, by alias."""
        return self.model_dump_json(by_alias=True, exclude_unset=True, **kwargs)


class SnakeModel(WireModel):
    """For the few payloads whose JSON keys are snake_case (OpenAI usage schemas)."""

    model_config = ConfigDict(alias_generator=None)


def _union(unset_dump: Any, none_dump: Any) -> Any:
    """Merge two dumps like upstream: dicts recursively, anything else (lists too) from the first."""
    if isinstance(unset_dump, dict) and isinstance(none_dump, dict):
        merged = dict(none_dump)
        for key, value in unset_dump.items():
            merged[key] = _union(value, none_dump[key]) if key in none_dump else value
        return merged
    return unset_dump


__all__ = ["Datetime", "SnakeModel", "WireModel", "serialize_datetime"]
