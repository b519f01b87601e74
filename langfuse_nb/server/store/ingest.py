"""One transaction per request for everything tracing-related (OTLP spans and ingestion events)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langfuse_nb.server.store import observations, scores, traces
from langfuse_nb.server.store.db import Database
from langfuse_nb.server.store.resources import BlobCache


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
                traces.upsert(conn, trace_updates, blobs)
            if observation_rows:
                observations.link_prompts(conn, observation_rows)
                observations.upsert(conn, observation_rows, blobs)
                scores.resolve_missing_traces(conn, [row["id"] for row in observation_rows])
            if score_rows:
                scores.upsert(conn, score_rows)
        except BaseException:
            blobs.reset()
            raise
