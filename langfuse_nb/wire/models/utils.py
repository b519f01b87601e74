"""Pagination metadata shared by list responses."""

from __future__ import annotations

from ._base import WireModel


class MetaResponse(WireModel):
    page: int
    limit: int
    total_items: int
    total_pages: int


__all__ = ["MetaResponse"]
