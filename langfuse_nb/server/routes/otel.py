"""``POST /api/public/otel/v1/traces``: OTLP/HTTP span ingest; a bad span is rejected alone."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request

from langfuse_nb.server.errors import BadRequest
from langfuse_nb.server.http import JsonResponse, RawBody, blobs_of, config_of, db_of, ok
from langfuse_nb.server.otlp import decode_request, decompress
from langfuse_nb.server.routes import Route
from langfuse_nb.server.spans import map_groups
from langfuse_nb.server.store import ingest
from langfuse_nb.server.values import MAX_DEPTH, count_truncations

_VERSION = re.compile(r"[0-9]{1,6}")
_LATEST_VERSION = 4


def export_traces(request: Request, body: RawBody) -> JsonResponse:
    _check_version(request.headers.get("x-langfuse-ingestion-version"))
    body = decompress(body, request.headers.get("content-encoding"), config_of(request).max_body_bytes)
    rejected: list[str] = []
    with count_truncations() as truncated:
        groups = decode_request(body, request.headers.get("content-type"), rejected)
        observations, traces = map_groups(groups)
    if rejected and not observations:
        raise BadRequest(f"no span could be stored: {rejected[0]}")
    if observations:
        _store(request, observations, traces, rejected)
    return ok(_partial_success(rejected, len(truncated)))


def _store(
    request: Request, observations: list[dict[str, Any]], traces: list[dict[str, Any]], rejected: list[str]
) -> None:
    """One transaction for the request; if a row cannot be stored, each span alone, so it fails alone."""
    db, blobs = db_of(request), blobs_of(request)
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


def _check_version(version: str | None) -> None:
    if version is None:
        return
    if not _VERSION.fullmatch(version.strip()) or int(version) > _LATEST_VERSION:
        shown = version if len(version) <= 20 else version[:20] + "..."
        raise BadRequest(f"unsupported x-langfuse-ingestion-version {shown!r}; use 1-{_LATEST_VERSION}")


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


ROUTES = [Route("POST", "/api/public/otel/v1/traces", export_traces)]
