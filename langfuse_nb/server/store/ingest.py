"""One transaction per request for everything tracing-related (OTLP spans and ingestion events)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langfuse_nb.server.read_gate import yield_to_reads
from langfuse_nb.server.store import observations, scores, traces
from langfuse_nb.server.store.db import Database
from langfuse_nb.server.store.resources import BlobCache

# Observation rows written between two pause points (read_gate): ~4 ms of a worker's time for small spans.
# The parts share the request's transaction, so a request is still stored whole or not at all.
_PART = 100


def write(
    db: Database,
    blobs: BlobCache,
    *,
    trace_updates: Sequence[dict[str, Any]] = (),
    observation_rows: Sequence[dict[str, Any]] = (),
    score_rows: Sequence[dict[str, Any]] = (),
) -> None:
    with db.write() as conn:
        try:
            if trace_updates:
                yield_to_reads()
                traces.upsert(conn, trace_updates, blobs)
            for start in range(0, len(observation_rows), _PART):
                yield_to_reads()
                part = observation_rows[start : start + _PART]
                observations.link_prompts(conn, part)
                observations.upsert(conn, part, blobs)
                scores.resolve_missing_traces(conn, [row["id"] for row in part])
            if score_rows:
                scores.upsert(conn, score_rows)
        except BaseException:
            blobs.reset()
            raise
