"""``POST /api/public/otel/v1/traces``: OTLP/HTTP span ingest."""

from __future__ import annotations

from fastapi import Request

from langfuse_nb.server.errors import BadRequest
from langfuse_nb.server.http import JsonResponse, RawBody, blobs_of, config_of, db_of, ok
from langfuse_nb.server.otlp import decode_request, decompress
from langfuse_nb.server.routes import Route
from langfuse_nb.server.spans import map_groups
from langfuse_nb.server.store import ingest


def export_traces(request: Request, body: RawBody) -> JsonResponse:
    version = request.headers.get("x-langfuse-ingestion-version")
    if version is not None and (not version.strip().isdigit() or int(version) > 4):
        raise BadRequest(f"unsupported x-langfuse-ingestion-version {version!r}")
    body = decompress(body, request.headers.get("content-encoding"), config_of(request).max_body_bytes)
    groups = decode_request(body, request.headers.get("content-type"))
    observations, traces = map_groups(groups)
    if observations:
        ingest.write(db_of(request), blobs_of(request), trace_updates=traces, observation_rows=observations)
    return ok({})


ROUTES = [Route("POST", "/api/public/otel/v1/traces", export_traces)]
