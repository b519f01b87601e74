"""``POST /api/public/ingestion``: batched legacy events and scores, answered with 207."""

from __future__ import annotations

from fastapi import Request

from langfuse_nb.server.errors import BadRequest
from langfuse_nb.server.http import JsonBody, JsonResponse, blobs_of, db_of, ok
from langfuse_nb.server.ingestion import map_batch
from langfuse_nb.server.routes import Route
from langfuse_nb.server.routes.score_configs import score_check
from langfuse_nb.server.store import ingest


def ingest_batch(request: Request, body: JsonBody) -> JsonResponse:
    if not isinstance(body, dict) or not isinstance(body.get("batch"), list):
        raise BadRequest("Invalid request data: body must be an object with a 'batch' array")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest("Invalid request data: 'metadata' must be an object or null")
    mapped = map_batch(body["batch"], check_score=score_check(request))
    ingest.write(
        db_of(request),
        blobs_of(request),
        trace_updates=mapped.traces,
        observation_rows=mapped.observations,
        score_rows=mapped.scores,
    )
    return ok({"successes": mapped.successes, "errors": mapped.errors}, 207)


ROUTES = [Route("POST", "/api/public/ingestion", ingest_batch)]
