"""The two span-ingest requests as jobs that run the same way in the server or in its ingest worker.

A job holds everything its answer depends on (the body and the request headers that matter), so the
server can hand it to the worker process (``ingest_worker.py``) and give the client exactly the answer, or
the exception, the job produced there. Nothing here imports FastAPI: the worker stays light to start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from langfuse_nb.server.errors import BadRequest
from langfuse_nb.server.gcpause import paused
from langfuse_nb.server.ingestion import EventError, map_batch
from langfuse_nb.server.otlp import decode_request, decompress
from langfuse_nb.server.spans import map_groups
from langfuse_nb.server.store import ingest
from langfuse_nb.server.store import score_configs as score_configs_store
from langfuse_nb.server.store.db import Database
from langfuse_nb.server.store.resources import BlobCache
from langfuse_nb.server.values import MAX_DEPTH, count_truncations


class Job(Protocol):
    """A unit of ingest; ``run`` commits before it returns (the client is answered only after that)."""

    def run(self, db: Database, blobs: BlobCache) -> Any: ...


@dataclass(frozen=True)
class OtlpJob:
    """``POST /api/public/otel/v1/traces``: decode, map and store; a bad span is rejected alone."""

    body: bytes
    content_type: str | None
    content_encoding: str | None
    max_body_bytes: int

    def run(self, db: Database, blobs: BlobCache) -> dict[str, Any]:
        # a request's rows are thousands of small dicts without cycles, freed when it returns: the cyclic
        # collector would only walk them (and the process's older objects) several times per request
        with paused():
            return self._run(db, blobs)

    def _run(self, db: Database, blobs: BlobCache) -> dict[str, Any]:
        body = decompress(self.body, self.content_encoding, self.max_body_bytes)
        rejected: list[str] = []
        with count_truncations() as truncated:
            groups = decode_request(body, self.content_type, rejected)
            observations, traces = map_groups(groups)
        if rejected and not observations:
            raise BadRequest(f"no span could be stored: {rejected[0]}")
        if observations:
            _store_spans(db, blobs, observations, traces, rejected)
        return _partial_success(rejected, len(truncated))


@dataclass(frozen=True)
class BatchJob:
    """``POST /api/public/ingestion``: legacy events and scores, each failing alone (answered with 207)."""

    batch: list[Any]

    def run(self, db: Database, blobs: BlobCache) -> dict[str, Any]:
        check = score_configs_store.score_checker(db.reader)

        def checked(score: dict[str, Any]) -> None:
            try:
                check(score)
            except score_configs_store.ConfigError as exc:
                raise EventError(str(exc)) from None

        mapped = map_batch(self.batch, check_score=checked)
        ingest.write(
            db,
            blobs,
            trace_updates=mapped.traces,
            observation_rows=mapped.observations,
            score_rows=mapped.scores,
        )
        return {"successes": mapped.successes, "errors": mapped.errors}


def _store_spans(
    db: Database,
    blobs: BlobCache,
    observations: list[dict[str, Any]],
    traces: list[dict[str, Any]],
    rejected: list[str],
) -> None:
    """One transaction for the request; if a row cannot be stored, each span alone, so it fails alone."""
    try:
        ingest.write(db, blobs, trace_updates=traces, observation_rows=observations)
        return
    except (OverflowError, ValueError, TypeError) as exc:  # a value SQLite cannot bind, e.g. > 64 bits
        first_error = exc
    stored = 0
    for observation, trace in zip(observations, traces, strict=True):  # map_groups: one trace row per span
        try:
            ingest.write(db, blobs, trace_updates=[trace], observation_rows=[observation])
            stored += 1
        except (OverflowError, ValueError, TypeError) as exc:
            rejected.append(f"span {str(observation.get('name'))[:100]!r} cannot be stored: {exc}"[:300])
    if not stored:
        raise BadRequest(f"no span could be stored: {first_error}")


def _partial_success(rejected: list[str], truncated: int) -> dict[str, Any]:
    """OTLP's partial-success answer: spans left out, and values cut, each said once."""
    if not rejected and not truncated:
        return {}
    problems = []
    if rejected:
        problems.append(f"{len(rejected)} span(s) rejected, first: {rejected[0]}")
    if truncated:
        problems.append(f"{truncated} value(s) nested deeper than {MAX_DEPTH} levels were truncated")
    return {"partialSuccess": {"rejectedSpans": len(rejected), "errorMessage": "; ".join(problems)}}
