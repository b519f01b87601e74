"""Types shared by several resources: pagination metadata, metadata map values."""

from __future__ import annotations

from ._base import WireModel

# A value of a string-keyed metadata map (e.g. the model parameters of a generation).
MapValue = str | int | bool | list[str] | None


class MetaResponse(WireModel):
    page: int
    limit: int
    total_items: int
    total_pages: int


__all__ = ["MapValue", "MetaResponse"]
