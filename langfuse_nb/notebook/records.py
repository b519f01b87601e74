"""Observation records the renderers draw; they live in ``langfuse_nb.views.records`` (shared)."""

from langfuse_nb.views.records import (
    ObservationRecord,
    from_api,
    from_span,
    sort_tree,
    trace_records_from_api,
)

__all__ = ["ObservationRecord", "from_api", "from_span", "sort_tree", "trace_records_from_api"]
